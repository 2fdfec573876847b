// The framework's counters as Prometheus text, through prom-client: one registry per app, so two
// apps in one process (tests) do not share counts. With BOT_WORKERS > 1 every answer of /metrics
// is the sum over the workers, gathered by the primary process.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { Metrics, PushOutcome } from '../core/kernel/metrics.ts';

/** What {@link prometheusMetrics} returns. */
export interface PrometheusMetrics {
  /** Hand this to the transport, the API client and the store. */
  metrics: Metrics;
  /** The Prometheus text: this process's, or in a worker the whole cluster's. */
  text(): Promise<MetricsText>;
}

/** An answer of /metrics. */
export interface MetricsText {
  text: string;
  contentType: string;
}

// A worker's request for the cluster's text, and the primary's answer.
const ASK = 'wechat-mp-bot:metrics?';
const ANSWER = 'wechat-mp-bot:metrics';

// From a reply in a millisecond to WeChat's 5-second limit, with the 4.5 s deadline answer apart.
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5, 5];

/**
 * Makes the registry and the {@link Metrics} that fill it, Node's default metrics included.
 * @example
 * const { metrics, text } = prometheusMetrics()
 * wechatRouter(bot, { token, log, metrics }); koa.body = (await text()).text
 */
export function prometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (cluster.isWorker) {
    // prom-client answers the primary's requests from the registries named here; constructing an
    // AggregatorRegistry is what installs that listener in a worker.
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
  }
  const registers = [registry];
  // What every push moves, counted in plain numbers (see PushCounts).
  const pushes = new PushCounts();
  const duration = new PushDurations();
  const replays = new PlainCounter(
    'wechat_dedupe_replays_total',
    'Retries of a push already run, answered without running the chain again.',
  );
  const deadlines = new PlainCounter(
    'wechat_deadline_answers_total',
    'Pushes answered at the deadline while their chain was still running.',
  );
  for (const metric of [pushes, duration, replays, deadlines]) registry.registerMetric(metric as never);
  const late = new Counter({
    name: 'wechat_late_replies_total',
    help: 'Replies set after the deadline, by what became of them (sent, retry, given_up, failed, dropped).',
    labelNames: ['outcome'],
    registers,
  });
  const calls = new Counter({
    name: 'wechat_api_calls_total',
    help: "Calls of WeChat's API by endpoint and errcode (0: success; network: no answer).",
    labelNames: ['api', 'errcode'],
    registers,
  });
  const tokens = new Counter({ name: 'wechat_token_refreshes_total', help: 'access_tokens fetched from WeChat.', registers });
  const storeErrors = new Counter({
    name: 'wechat_store_errors_total',
    help: 'Store operations that failed or timed out, by operation.',
    labelNames: ['op'],
    registers,
  });
  const metrics: Metrics = {
    push(type, outcome, seconds) {
      pushes.add(type, outcome);
      duration.observe(seconds);
      if (outcome === 'replayed') replays.value++;
      else if (outcome === 'deadline') deadlines.value++;
    },
    lateReply: (outcome) => late.labels(outcome).inc(),
    apiCall: (api, errcode) => calls.labels(api, String(errcode)).inc(),
    tokenRefresh: () => tokens.inc(),
    storeError: (op) => storeErrors.labels(op).inc(),
  };
  const own = async () => ({ text: await registry.metrics(), contentType: registry.contentType });
  return { metrics, text: cluster.isWorker ? askPrimary : own };
}

// In a worker: the cluster's text, from the primary.
function askPrimary(): Promise<MetricsText> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary process did not send the metrics within 5 s'));
    }, 5000);
    const onMessage = (message: { type?: string; id?: string; text?: string; error?: string }) => {
      if (message?.type !== ANSWER || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve({ text: message.text ?? '', contentType: Registry.PROMETHEUS_CONTENT_TYPE });
    };
    process.on('message', onMessage);
    process.send!({ type: ASK, id });
  });
}

/**
 * In the primary process of BOT_WORKERS: answers the workers' requests for the cluster's metrics,
 * and returns the same text for METRICS_PORT.
 * @example
 * const text = relayClusterMetrics()
 */
export function relayClusterMetrics(): () => Promise<MetricsText> {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text }),
      (error: Error) => worker.send({ type: ANSWER, id: message.id, error: error.message }),
    );
  });
  return async () => ({ text: await aggregator.clusterMetrics(), contentType: aggregator.contentType });
}

/**
 * METRICS_PORT: /metrics without a token, on 127.0.0.1 only (a scraper on the same machine).
 * @example
 * await serveMetrics(9464, prometheus.text)
 */
export function serveMetrics(port: number, text: () => Promise<MetricsText>): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics');
      return;
    }
    text().then(
      (answer) => response.writeHead(200, { 'content-type': answer.contentType, 'cache-control': 'no-store' }).end(answer.text),
      (error: Error) => response.writeHead(503, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${error.message}`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// prom-client's Counter and Histogram hash their labels and make closures on every call: that was
// a tenth of a push on the memory store, end to end (BENCHMARKS.md). What every push moves is
// counted here in plain numbers, and given to prom-client only when it is scraped, in the shape
// its own metrics give (as its AggregatorRegistry does with the metrics it sums): name, help,
// type, aggregator and get().
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

class PushCounts {
  readonly name = 'wechat_pushes_total';
  readonly help = 'Pushes on the callback, by event type and how they were answered (replied, success, replayed, deadline, refused).';
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #counts = new Map<PushOutcome, Map<string, number>>();

  add(type: string, outcome: PushOutcome): void {
    let byType = this.#counts.get(outcome);
    if (!byType) this.#counts.set(outcome, (byType = new Map()));
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }

  async get() {
    const values: Sample[] = [];
    for (const [outcome, byType] of this.#counts) for (const [type, value] of byType) values.push({ value, labels: { type, outcome } });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

class PlainCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  value = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [{ value: this.value, labels: {} }] };
  }
}

class PushDurations {
  readonly name = 'wechat_push_duration_seconds';
  readonly help = 'From the request to the answer of a push.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  // The count of each bucket alone (not cumulative); the last is above every bound.
  readonly #counts = new Float64Array(DURATION_BUCKETS.length + 1);
  #sum = 0;
  #count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    this.#counts[i]!++;
    this.#sum += seconds;
    this.#count++;
  }

  async get() {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const values: Sample[] = DURATION_BUCKETS.map((le, i) => ({
      value: (cumulative += this.#counts[i]!),
      labels: { le },
      metricName: bucket,
    }));
    values.push(
      { value: this.#count, labels: { le: '+Inf' }, metricName: bucket },
      { value: this.#sum, labels: {}, metricName: `${this.name}_sum` },
      { value: this.#count, labels: {}, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
