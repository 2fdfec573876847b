// What an operator sees from outside: /healthz, /readyz and the Prometheus text of /metrics.
import test from 'ava';
import { prometheusMetrics } from '../app/metrics.ts';
import { openStore } from '../core/state/open-store.ts';
import { eventFields, memoryLogger, openid, pushXml, signedQuery, startEmulator, startServer, testConfig } from './_helpers.ts';
import { redisTest, startRedis } from './_redis.ts';

const METRICS_TOKEN = 'metrics-token-0123456789';
const origin = (url: string) => url.replace(/\/wechat$/, '');

// The value of one sample line of Prometheus text (0 when the line is absent).
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${origin(url)}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

test('/healthz and /readyz answer 200; /metrics is 404 without BOT_METRICS_TOKEN, 401 with a wrong token', async (t) => {
  const bare = await startServer(t);
  t.is((await fetch(`${origin(bare.url)}/healthz`)).status, 200);
  const ready = await fetch(`${origin(bare.url)}/readyz`);
  t.is(ready.status, 200);
  t.is(await ready.text(), 'ready');
  t.is((await fetch(`${origin(bare.url)}/metrics`)).status, 404, 'no token set: no metrics');
  const guarded = await startServer(t, { metricsToken: METRICS_TOKEN });
  t.is((await fetch(`${origin(guarded.url)}/metrics`)).status, 401);
  t.is((await fetch(`${origin(guarded.url)}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
  t.is((await fetch(`${origin(guarded.url)}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200);
});

test('/metrics moves as pushes arrive: by type and outcome, replays, refusals, the deadline, late replies, durations, and Node', async (t) => {
  const slow = {
    name: 'slow',
    middleware: async (ctx: { event: { type: string }; reply(text: string): void }) => {
      if (ctx.event.type !== 'text') return;
      await new Promise((resolve) => setTimeout(resolve, 300));
      ctx.reply('late');
    },
  };
  const server = await startServer(t, {
    metricsToken: METRICS_TOKEN,
    deadlineMs: 100,
    lateHook: false, // no API: a late reply has nowhere to go, and is counted dropped
    config: { ...testConfig(), plugins: [slow as never] },
  });
  const before = await scrape(server.url);
  t.is(sample(before, 'wechat_push_duration_seconds_count'), 0);
  t.true(before.includes('process_resident_memory_bytes'), "Node's default metrics are there");

  const follow = pushXml(eventFields(openid(), 'subscribe'));
  t.is((await server.push(follow)).status, 200);
  t.is((await server.push(follow)).status, 200, 'its retry');
  const refused = await fetch(`${server.url}?${signedQuery('wrongtoken')}`, { method: 'POST', body: follow });
  t.is(refused.status, 401);
  const text = await server.push({ ToUserName: 'gh_x', FromUserName: openid(), CreateTime: 1, MsgType: 'text', Content: 'hi', MsgId: '1' });
  t.is(text.status, 200);
  // The slow plugin's reply comes after the deadline, and has nowhere to go.
  let after = await scrape(server.url);
  for (let i = 0; i < 400 && sample(after, 'wechat_late_replies_total{outcome="dropped"}') === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    after = await scrape(server.url);
  }
  t.is(sample(after, 'wechat_pushes_total{type="subscribe",outcome="replied"}'), 1, 'the follow, welcomed');
  t.is(sample(after, 'wechat_pushes_total{type="subscribe",outcome="replayed"}'), 1, 'its retry');
  t.is(sample(after, 'wechat_pushes_total{type="unparsed",outcome="refused"}'), 1, 'the unsigned one');
  t.is(sample(after, 'wechat_pushes_total{type="text",outcome="deadline"}'), 1, 'the slow one');
  t.is(sample(after, 'wechat_dedupe_replays_total'), 1);
  t.is(sample(after, 'wechat_deadline_answers_total'), 1);
  t.is(sample(after, 'wechat_late_replies_total{outcome="dropped"}'), 1);
  t.is(sample(after, 'wechat_push_duration_seconds_count'), 4);
  t.true(sample(after, 'wechat_push_duration_seconds_sum') >= 0.1, 'the slow one took its 100 ms deadline');
  t.is(sample(after, 'wechat_push_duration_seconds_bucket{le="+Inf"}'), 4);
});

test("/metrics counts WeChat's API calls by errcode, and the tokens fetched", async (t) => {
  const prometheus = prometheusMetrics();
  const wechat = await startEmulator(t, { metrics: prometheus.metrics });
  const server = await startServer(t, { metricsToken: METRICS_TOKEN, metrics: prometheus, api: wechat.api });
  await server.sync!.firstPass;
  await t.throwsAsync(wechat.api.sendCustom('o-someone', { msgtype: 'text', text: { content: '' } }));
  const text = await scrape(server.url);
  t.is(sample(text, 'wechat_token_refreshes_total'), 1);
  t.is(sample(text, 'wechat_api_calls_total{api="stable_token",errcode="0"}'), 1);
  t.true(sample(text, 'wechat_api_calls_total{api="menu/create",errcode="0"}') >= 1, 'the sync set the menu');
  t.is(sample(text, 'wechat_api_calls_total{api="message/custom/send",errcode="44004"}'), 1, 'a text without content');
});

redisTest(test, '/readyz turns 503 when Redis is stopped and 200 when it is back; the store errors are counted', async (t) => {
  const redis = await startRedis(t);
  const prometheus = prometheusMetrics();
  const log = memoryLogger();
  const store = await openStore(redis.url, { log: log.log, timeoutMs: 500, onError: prometheus.metrics.storeError });
  t.teardown(() => store.close());
  const server = await startServer(t, { store, metricsToken: METRICS_TOKEN, metrics: prometheus });
  const readyz = () => fetch(`${origin(server.url)}/readyz`);
  t.is((await readyz()).status, 200);

  await redis.kill();
  const down = await readyz();
  t.is(down.status, 503);
  t.regex(await down.text(), /^not ready: the store/);
  t.is((await server.push(eventFields(openid(), 'subscribe'))).status, 200, 'pushes are still answered');
  const text = await scrape(server.url);
  t.true(sample(text, 'wechat_store_errors_total{op="get"}') >= 1, 'the failed reads are counted');

  await redis.restart();
  const end = Date.now() + 10_000;
  let status = 0;
  while (Date.now() < end && (status = (await readyz()).status) !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(status, 200, 'ready again once Redis is back');
});
