import Router from '@koa/router';
import type { Context as KoaContext, Middleware } from 'koa';
import type { WechatApi } from '../core/api/client.ts';
import { ApiError } from '../core/api/errors.ts';
import { SESSION_MS, WebAuthError, type OauthScope, type WebAuth } from '../core/features/web-auth.ts';
import type { Logger } from '../core/kernel/log.ts';
import { jssdkConfig } from '../core/protocol/jssdk.ts';
import type { Store } from '../core/state/store.ts';
import { requireBearer } from './bearer.ts';
import { rateLimit, tooManyRequests } from './rate-limit.ts';

/** Options of {@link oauthRoutes}. */
export interface OauthRoutesOptions {
  webAuth: WebAuth;
  api: WechatApi;
  store: Store;
  log: Logger;
  /** BOT_PUBLIC_URL: the https origin WeChat knows. Unset in emulator mode: the request's own origin. */
  publicUrl: string | undefined;
  /** BOT_API_TOKEN: guards the ticket and JS-SDK routes; unset, they answer 404. */
  apiToken: string | undefined;
  emulator: boolean;
  /** Authorize requests one client may start per minute (each holds a state for 10 minutes); 120 by default. */
  perMinute?: number;
}

/**
 * Web authorization and the JS-SDK over HTTP:
 * - `GET /oauth/authorize?redirect=<https URL on a listed host>&scope=snsapi_base|snsapi_userinfo` → 302 to WeChat;
 * - `GET /oauth/callback?code&state` (WeChat's redirect) → 302 to the page with `wx_ticket` (or `wx_error=denied`);
 * - `GET /api/oauth/tickets/:ticket` (bearer) → who opened the page, once;
 * - `GET /api/jssdk/config?url=<page URL>` (bearer) → `{ appId, timestamp, nonceStr, signature }`.
 * @example
 * app.use(oauthRoutes({ webAuth, api, store, log, publicUrl, apiToken, emulator: false }).routes())
 */
export function oauthRoutes(options: OauthRoutesOptions): Router {
  const { webAuth, api, store, log } = options;
  const router = new Router();
  const perMinute = options.perMinute ?? 120;
  const starts = rateLimit({ store, name: 'oauth', perMinute });
  const guard = requireBearer({ token: options.apiToken, store });

  router.get('/oauth/authorize', async (koa) => {
    const origin = publicOrigin(koa, options);
    if (!origin) return refuse(koa, 503, 'BOT_PUBLIC_URL is not set: web authorization needs the https origin WeChat knows');
    if (!(await starts.take(koa))) return tooManyRequests(koa, { error: `at most ${perMinute} authorizations a minute per client` });
    const redirect = one(koa.query.redirect);
    if (!redirect) return refuse(koa, 400, 'needs redirect=<the absolute https URL of your page>');
    try {
      koa.redirect(await webAuth.authorizeUrl(redirect, one(koa.query.scope) ?? 'snsapi_base', origin));
    } catch (error) {
      if (error instanceof WebAuthError) return refuse(koa, 400, error.message);
      throw error;
    }
  });

  router.get('/oauth/callback', async (koa) => {
    try {
      koa.redirect(await webAuth.callback(one(koa.query.code), one(koa.query.state)));
    } catch (error) {
      if (error instanceof WebAuthError) return refuse(koa, 400, error.message);
      if (error instanceof ApiError) {
        // 40029 (a bad code), 40163 (a code used twice): the user may simply open the page again.
        log.warn({ err: error }, 'web authorization: WeChat refused the code');
        return refuse(koa, 400, `WeChat refused the code (${error.errcode ?? error.message}): open the page again`);
      }
      throw error;
    }
  });

  router.get('/api/oauth/tickets/:ticket', guard, async (koa) => {
    const user = await webAuth.redeem(koa.params.ticket ?? '');
    if (!user) return refuse(koa, 404, 'no such ticket (each is read once, within 5 minutes)');
    koa.body = user;
  });

  router.get('/api/jssdk/config', guard, async (koa) => {
    const url = one(koa.query.url);
    if (!url || !/^https?:\/\//.test(url) || url.length > 2048) return refuse(koa, 400, "needs url=<the page's URL, without #fragment>");
    koa.body = jssdkConfig({ appId: api.appId, ticket: await api.jsapiTicket(), url });
  });

  return router;
}

/**
 * For pages the bot serves itself in Koa: the WeChat user who opened the page is on
 * `ctx.state.wechatUser`; a visitor without one is sent through web authorization first, and
 * comes back to the same page. The user is kept in a session cookie (HttpOnly, a day).
 * @example
 * router.get('/member', requireWechatUser({ webAuth, publicUrl }), (ctx) => (ctx.body = `你好 ${ctx.state.wechatUser.openid}`))
 */
export function requireWechatUser(options: {
  webAuth: WebAuth;
  publicUrl: string | undefined;
  emulator?: boolean;
  scope?: OauthScope;
}): Middleware {
  return async (koa, next) => {
    let user = await options.webAuth.session(koa.cookies.get('wx_session'));
    const ticket = one(koa.query.wx_ticket);
    if (!user && ticket) {
      user = await options.webAuth.redeem(ticket);
      if (user) {
        const id = await options.webAuth.openSession(user);
        koa.cookies.set('wx_session', id, { httpOnly: true, sameSite: 'lax', maxAge: SESSION_MS, secure: koa.secure });
        // The same page without the ticket: it is used up, and has no place in the history.
        const clean = new URL(koa.href);
        clean.searchParams.delete('wx_ticket');
        return koa.redirect(clean.pathname + clean.search);
      }
    }
    if (user) {
      koa.state.wechatUser = user;
      return next();
    }
    if (one(koa.query.wx_error) === 'denied') return refuse(koa, 403, 'you declined to share your WeChat identity with this page');
    const origin = publicOrigin(koa, { publicUrl: options.publicUrl, emulator: Boolean(options.emulator) });
    if (!origin) return refuse(koa, 503, 'BOT_PUBLIC_URL is not set');
    const page = new URL(koa.originalUrl, origin);
    page.searchParams.delete('wx_ticket');
    koa.redirect(await options.webAuth.authorizeUrl(page.href, options.scope ?? 'snsapi_base', origin));
  };
}

// The bot's origin as WeChat reaches it: BOT_PUBLIC_URL, or in emulator mode this request's own.
function publicOrigin(koa: KoaContext, options: { publicUrl: string | undefined; emulator: boolean }): string | undefined {
  return options.publicUrl ?? (options.emulator ? `${koa.protocol}://${koa.host}` : undefined);
}

function one(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function refuse(koa: KoaContext, status: number, error: string): void {
  koa.status = status;
  koa.body = { error };
}
