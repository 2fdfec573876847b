// What a load balancer, Kubernetes or Prometheus asks of an instance: alive, ready, and its numbers.
import Router from '@koa/router';
import type { Store } from '../core/state/store.ts';
import { requireBearer } from './bearer.ts';

/** Options of {@link opsRoutes}. */
export interface OpsRoutesOptions {
  store: Store;
  /** BOT_METRICS_TOKEN: /metrics needs it as a bearer token; unset, /metrics answers 404. */
  metricsToken: string | undefined;
  /** The Prometheus text and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  /** How long the store may take to answer the readiness probe. */
  readyTimeoutMs?: number;
}

/**
 * `GET /healthz`: the process answers. `GET /readyz`: 200 when the store answers (the config is
 * loaded before the app exists), 503 with the reason when it does not. Readiness does not ask
 * WeChat's API: pushes are answered without it. `GET /metrics`: Prometheus text, behind the token.
 * @example
 * app.use(opsRoutes({ store, metricsToken, metrics: () => metricsText(registry) }).routes())
 */
export function opsRoutes(options: OpsRoutesOptions): Router {
  const { store } = options;
  const timeoutMs = options.readyTimeoutMs ?? 1000;
  const router = new Router();
  router.get('/healthz', (koa) => {
    koa.set('Cache-Control', 'no-store');
    koa.body = 'ok';
  });
  router.get('/readyz', async (koa) => {
    koa.set('Cache-Control', 'no-store');
    const problem = await storeProblem(store, timeoutMs);
    koa.status = problem ? 503 : 200;
    koa.body = problem ? `not ready: ${problem}` : 'ready';
  });
  router.get('/metrics', requireBearer({ token: options.metricsToken, store }), async (koa) => {
    const { text, contentType } = await options.metrics();
    koa.set('Cache-Control', 'no-store');
    koa.type = contentType;
    koa.body = text;
  });
  return router;
}

// Why the store cannot serve a push now, or undefined when it answers in time. A read, not a write:
// the probe runs every few seconds on every instance and must not grow the store.
async function storeProblem(store: Store, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the store did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  const answer = store.get('ready-probe').then(
    () => undefined,
    (error: unknown) => `the store failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
