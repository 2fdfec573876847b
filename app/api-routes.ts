import Router from '@koa/router';
import type { Logins } from '../core/features/logins.ts';
import type { Logger } from '../core/kernel/log.ts';
import { qrSvg, type QrRenderer } from '../core/api/qr-image.ts';
import type { Store } from '../core/state/store.ts';
import { requireBearer } from './bearer.ts';
import { rateLimit, tooManyRequests } from './rate-limit.ts';

/** Options of {@link loginApi}. */
export interface LoginApiOptions {
  logins: Logins;
  store: Store;
  log: Logger;
  /** Renders the login code's PNG off the event loop. */
  renderer: QrRenderer;
  /** BOT_API_TOKEN: without it, the routes answer 404. */
  token: string | undefined;
  /** Codes one client (by IP) may create per minute (WeChat's quota is finite); 600 by default. */
  perMinute?: number;
  /** Mount point: '/api' for websites, '/demo/api' for the emulator's demo page (no token). */
  prefix?: string;
  /** The demo page's routes need no token; only ever true in emulator mode. */
  open?: boolean;
}

/**
 * Follow-to-login over HTTP, for a website's back end:
 * `POST /api/login` → `{ scene, url, qrPng, qrSvg, expiresAt }`;
 * `GET /api/login/:scene?wait=25` → `{ status: 'pending' | 'scanned' | 'expired', openid?, newFollower? }`.
 * @example
 * app.use(loginApi({ logins, store, log, renderer, token: process.env.BOT_API_TOKEN }).routes())
 */
export function loginApi(options: LoginApiOptions): Router {
  const router = new Router({ prefix: options.prefix ?? '/api' });
  const { logins, store, log, renderer } = options;
  const perMinute = options.perMinute ?? 600;
  const codes = rateLimit({ store, name: 'login', perMinute });
  if (!options.open) router.use(requireBearer({ token: options.token, store }));

  router.post('/login', async (koa) => {
    if (!(await codes.take(koa))) {
      log.warn({ perMinute }, 'login codes: a client hit the rate limit');
      return tooManyRequests(koa, { error: `at most ${perMinute} login codes a minute per client` });
    }
    const code = await logins.create();
    koa.body = {
      scene: code.scene,
      url: code.url,
      qrPng: `data:image/png;base64,${(await renderer.png(code.url, { size: 512 })).toString('base64')}`,
      qrSvg: await qrSvg(code.url),
      expiresAt: code.expiresAt,
    };
  });

  router.get('/login/:scene', async (koa) => {
    // At most 30 s: a long poll must end before a proxy's read timeout (nginx: 60 s) cuts it.
    const wait = Math.min(30, Math.max(0, Number(koa.query.wait) || 0));
    const status = await logins.wait(koa.params.scene ?? '', wait * 1000);
    if (!status) {
      koa.status = 404;
      koa.body = { error: 'no such login' };
      return;
    }
    koa.body = status;
  });

  return router;
}
