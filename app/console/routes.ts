import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import { koaBody } from 'koa-body';
import type { Context as KoaContext, Next } from 'koa';
import type { WechatApi } from '../../core/api/client.ts';
import type { ResolvedConfig } from '../../core/config/bot-config.ts';
import type { Logger } from '../../core/kernel/log.ts';
import { readQrRecord } from '../../core/api/qr-records.ts';
import { secretMatches } from '../../core/protocol/signature.ts';
import type { Store } from '../../core/state/store.ts';
import { campaignSeries, campaignStats } from '../../plugins/scene-campaign.ts';
import { LAST_SYNC_KEY, sameMenu, syncOnce } from '../../plugins/sync.ts';
import { OWN_MENUS_KEY } from '../../plugins/sync-audiences.ts';
import { pageHeaders, sameOriginJson } from '../browser-guards.ts';
import { tooManyRequests, wrongTokens, WRONG_TOKENS_PER_MINUTE } from '../rate-limit.ts';
import type { WechatEmulator } from '../emulator.ts';
import { describeReply, parseAction, simulate } from '../simulator.ts';
import type { EventLog } from './event-log.ts';

/** Options of {@link consoleRoutes}. */
export interface ConsoleOptions {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  events: EventLog;
  api: WechatApi | undefined;
  /** Set in emulator mode: the console may simulate users and shows late replies. */
  emulator: WechatEmulator | undefined;
  /** The callback's Token, to sign simulated pushes. */
  wechatToken: string;
  /** BOT_CONSOLE_TOKEN: against a real account the console exists only with it, read-only. */
  consoleToken: string | undefined;
}

const SESSION_MS = 12 * 3600_000;
// The console loads its scripts, styles, images and data from this server only (codes as data: URLs).
// A news reply's picture is shown as WeChat shows it, from wherever it is (https only).
const CSP =
  "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const require = createRequire(import.meta.url);
// Browser builds out of node_modules (the packages do not export these paths, so go by folder).
const htmDir = join(dirname(require.resolve('htm')), '..');
const uplotDir = dirname(require.resolve('uplot'));
// Maps, not objects: a name from the URL must not find an inherited member (__proto__, toString).
const vendor = new Map([
  ['preact.js', join(htmDir, 'preact', 'standalone.module.js')],
  ['uplot.js', join(uplotDir, 'uPlot.esm.js')],
  ['uplot.css', join(uplotDir, 'uPlot.min.css')],
]);
const staticDir = new URL('./static/', import.meta.url);
const TYPES = new Map([
  ['js', 'text/javascript'],
  ['css', 'text/css'],
  ['html', 'text/html'],
]);
const typeOf = (file: string) => TYPES.get(file.split('.').pop()!) ?? 'text/plain';
// JSON only: the parsers for what a cross-site form can send are off.
const json = (limit: string) => koaBody({ json: true, jsonLimit: limit, urlencoded: false, text: false, multipart: false });

/**
 * The console at /console: the phone (menu and chat, in emulator mode), campaigns with their codes
 * and counters, the live event log, and the sync. On by default in emulator mode; against a real
 * account only with BOT_CONSOLE_TOKEN, and then read-only: it never sends anything to real users.
 * @example
 * app.use(consoleRoutes({ config, store, log, events, api, emulator, wechatToken, consoleToken }).routes())
 */
export function consoleRoutes(options: ConsoleOptions): Router {
  const { config, store, log, events, api, emulator } = options;
  const enabled = Boolean(emulator || options.consoleToken);
  const canSimulate = Boolean(emulator);
  const { consoleToken } = options;
  const sessions = new Map<string, number>();
  const wrong = wrongTokens(store);
  const router = new Router({ prefix: '/console' });

  const session = (koa: KoaContext) => {
    if (!consoleToken) return true; // emulator mode: a developer's own machine
    const id = koa.cookies.get('bot_console');
    const until = id ? sessions.get(id) : undefined;
    return until !== undefined && until > Date.now();
  };
  const guard = async (koa: KoaContext, next: Next) => {
    if (!enabled) return void (koa.status = 404);
    if (!session(koa)) {
      koa.status = 401;
      koa.body = { error: 'log in with BOT_CONSOLE_TOKEN' };
      return;
    }
    await next();
  };

  router.use(async (koa, next) => (enabled ? next() : void (koa.status = 404)));
  router.use(pageHeaders(CSP));
  // Whatever changes something takes JSON from this server's own pages only.
  router.use((koa, next) => (koa.method === 'GET' || koa.method === 'HEAD' ? next() : sameOriginJson(koa, next)));

  router.get('/', (koa) => serveStatic(koa, 'index.html'));
  router.get('/static/:file', (koa) => serveStatic(koa, koa.params.file ?? ''));
  router.get('/vendor/:file', (koa) => {
    const file = vendor.get(koa.params.file ?? '');
    if (!file) return void (koa.status = 404);
    koa.type = typeOf(file);
    koa.set('Cache-Control', 'max-age=3600');
    koa.body = readFileSync(file);
  });

  // The token travels in a POST body, never in a URL; the session is an HttpOnly cookie.
  router.post('/login', json('4kb'), async (koa) => {
    const given = (koa.request as { body?: { token?: unknown } }).body?.token;
    const verdict = await wrong.judge(koa, consoleToken !== undefined && secretMatches(given, consoleToken));
    if (verdict === 'limited') {
      return tooManyRequests(koa, { error: `more than ${WRONG_TOKENS_PER_MINUTE} wrong tokens in a minute from this address: wait` });
    }
    if (verdict === 'wrong') {
      log.warn('console: a login with a wrong token was refused');
      koa.status = 401;
      koa.body = { error: 'wrong token' };
      return;
    }
    const id = randomBytes(24).toString('base64url');
    sessions.set(id, Date.now() + SESSION_MS);
    // Secure over https, which behind a TLS proxy the bot knows only with BOT_TRUST_PROXY.
    koa.cookies.set('bot_console', id, { httpOnly: true, sameSite: 'strict', secure: koa.secure, path: '/console', maxAge: SESSION_MS });
    koa.status = 204;
  });

  router.get('/api/state', guard, (koa) => {
    koa.body = {
      mode: emulator ? 'emulator' : 'account',
      canSimulate,
      menu: config.menu ?? null,
      campaigns: [...config.campaigns.entries()].map(([name, c]) => ({ name, scene: c.scene })),
      // The phone opens view buttons to these hosts (and this bot's own) through web authorization.
      oauthHosts: config.oauth.redirectHosts ?? [],
    };
  });

  router.get('/api/campaigns', guard, async (koa) => {
    koa.body = await Promise.all(
      [...config.campaigns.entries()].map(async ([name, campaign]) => {
        const [stats, series, record] = await Promise.all([
          campaignStats(store, name),
          campaignSeries(store, name, 24),
          readQrRecord(store, campaign),
        ]);
        return {
          name,
          scene: campaign.scene,
          permanent: Boolean(campaign.permanent),
          description: campaign.description ?? null,
          expiresAt: record?.expiresAt ?? null,
          created: Boolean(record),
          stats,
          retention: stats.follows > 0 ? 1 - stats.unfollows / stats.follows : null,
          series,
        };
      }),
    );
  });

  router.get('/api/events', guard, (koa) => {
    const after = Number(koa.query.after) || 0;
    koa.body = events.entries.filter((e) => e.id > after);
  });

  router.get('/api/sync', guard, async (koa) => {
    const last = (await store.get(LAST_SYNC_KEY)) ?? null;
    const plan = api
      ? await syncOnce({ api, config }, store, log, { dryRun: true }).catch((error: unknown) => ({
          error: String((error as Error).message),
        }))
      : null;
    koa.body = { last, plan };
  });

  // The default menu and the conditional ones, with the menuid each got on the account.
  router.get('/api/menus', guard, async (koa) => {
    const own = (await store.get<Record<string, { menuid: number }>>(OWN_MENUS_KEY)) ?? {};
    koa.body = {
      default: config.menu ?? null,
      conditional: [...config.conditionalMenus].map(([name, menu]) => ({
        name,
        matchrule: menu.matchrule,
        button: menu.button,
        menuid: own[name]?.menuid ?? null,
      })),
    };
  });

  // The menu a follower sees (menu/trymatch): a read, so the console offers it against a real account too.
  router.post('/api/trymatch', guard, json('4kb'), async (koa) => {
    const user = (koa.request as { body?: { user?: unknown } }).body?.user;
    if (typeof user !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(user)) {
      koa.status = 400;
      koa.body = { error: 'needs { user }: an OpenID (or WeChat ID) of 1 to 64 letters, digits, _ or -' };
      return;
    }
    if (!api) {
      koa.status = 400;
      koa.body = { error: 'the preview needs WeChat’s API' };
      return;
    }
    try {
      const menu = await api.tryMatchMenu(user);
      // trymatch answers buttons only: every menu of the config with those buttons is named.
      const names = [...config.conditionalMenus].filter(([, m]) => sameMenu(menu, m)).map(([name]) => name);
      if (config.menu && sameMenu(menu, config.menu)) names.push('default');
      koa.body = { button: menu.button, matched: names.length > 0 ? names.join(' or ') : null };
    } catch (error) {
      koa.status = 400;
      koa.body = { error: (error as Error).message };
    }
  });

  router.post('/api/simulate', guard, json('16kb'), async (koa) => {
    if (!canSimulate) {
      koa.status = 403;
      koa.body = { error: 'the console simulates users only against the emulator' };
      return;
    }
    const body = (koa.request as { body?: { user?: unknown; action?: unknown } }).body;
    const user = typeof body?.user === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(body.user) ? body.user : undefined;
    if (!user) {
      koa.status = 400;
      koa.body = { error: 'needs { user, action }: user is 1 to 64 letters, digits, _ or -' };
      return;
    }
    const parsed = parseAction(body?.action);
    if ('error' in parsed) {
      koa.status = 400;
      koa.body = { error: parsed.error };
      return;
    }
    // Through the same path WeChat uses: a signed push to this server's own callback.
    const result = await simulate(parsed.action, {
      url: `http://127.0.0.1:${koa.socket.localPort}/wechat`,
      token: options.wechatToken,
      user,
      account: 'gh_console',
    });
    // One answer per push: a photo or location button is its event, then the message.
    koa.body = {
      status: Math.max(...result.map((r) => r.status)),
      replies: result.map((r) => ({ status: r.status, text: describeReply(r), reply: r.reply ?? null })),
    };
  });

  // Replies that missed the 5 s window went out as customer-service messages: the emulator kept them.
  router.get('/api/late', guard, (koa) => {
    const after = Number(koa.query.after) || 0;
    koa.body = (emulator?.customMessages ?? []).flatMap((m, i) =>
      i + 1 > after
        ? [
            {
              index: i + 1,
              touser: m.touser,
              msgtype: m.msgtype,
              content: (m.text as { content?: string } | undefined)?.content ?? `[${String(m.msgtype)}]`,
            },
          ]
        : [],
    );
  });

  return router;
}

function serveStatic(koa: KoaContext, file: string): void {
  if (!/^[a-z-]+\.(html|js|css)$/.test(file)) return void (koa.status = 404);
  try {
    koa.body = readFileSync(new URL(file, staticDir));
    koa.type = typeOf(file);
    koa.set('Cache-Control', 'no-cache');
  } catch {
    koa.status = 404;
  }
}
