import { STATUS_CODES } from 'node:http';
import Koa from 'koa';
import type { WechatApi } from '../core/api/client.ts';
import { Bot } from '../core/kernel/bot.ts';
import type { BotContext, BotServices, Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import { WechatCrypto } from '../core/protocol/crypto.ts';
import { LateReplies } from '../core/features/late-reply.ts';
import type { Logger } from '../core/kernel/log.ts';
import { replayGuard } from '../core/koa/replay.ts';
import { QrRenderer } from '../core/api/qr-image.ts';
import type { NormalReply } from '../core/protocol/reply.ts';
import type { Store } from '../core/state/store.ts';
import { wechatRouter } from '../core/koa/transport.ts';
import { defaultPlugins, type DefaultPluginsOptions } from '../plugins/index.ts';
import { syncPlugin, type SyncOptions } from '../plugins/sync.ts';
import { loginApi } from './api-routes.ts';
import { hostCheck, identityBodiesOnly, noSniff } from './browser-guards.ts';
import { apiRequestLimit } from './rate-limit.ts';
import { demoLoginPage } from './demo-login.ts';
import { demoPages } from './demo-pages.ts';
import { qrRoutes } from './qr-routes.ts';
import { createServices } from './services.ts';
import { oauthRoutes } from './oauth-routes.ts';
import { EventLog } from './console/event-log.ts';
import { prometheusMetrics, type PrometheusMetrics } from './metrics.ts';
import { opsRoutes } from './ops-routes.ts';
import { consoleRoutes } from './console/routes.ts';
import type { WechatEmulator } from './emulator.ts';
import type { Settings } from './settings.ts';

/** Options of {@link createApp}. */
export interface AppOptions {
  settings: Pick<Settings, 'token' | 'appId' | 'aesKeys' | 'deadlineMs'> &
    Partial<
      Pick<Settings, 'apiToken' | 'emulator' | 'consoleToken' | 'mode' | 'maxSkewS' | 'host' | 'trustProxy' | 'publicUrl' | 'metricsToken'>
    >;
  /** The in-process emulator (emulator mode): the console simulates users against it. */
  emulator?: WechatEmulator;
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  /** WeChat's API: enables the start-up sync and late replies through customer-service messages. */
  api?: WechatApi;
  plugins?: DefaultPluginsOptions;
  sync?: SyncOptions;
  /** Where the pushes are counted, for /metrics; one is made when not given. */
  metrics?: PrometheusMetrics;
  /** Replaces the default late-reply hook: the outbox, sending customer-service messages through `api`. */
  onLateReply?(ctx: BotContext, reply: NormalReply): void | Promise<void>;
}

/**
 * Builds the bot and the Koa app: the callback at /wechat and campaign QR images at /qr/<campaign>.png|svg.
 * Throws for a malformed EncodingAESKey. `bot.close()` stops its background work, the QR renderer included.
 * @example
 * const { app, bot } = await createApp({ settings, config, store, log, api })
 * app.listen(3000)
 */
export async function createApp(options: AppOptions) {
  const { settings, log, api, config, store } = options;
  const crypto =
    settings.aesKeys.length > 0
      ? new WechatCrypto({ token: settings.token, appId: settings.appId, encodingAESKeys: settings.aesKeys })
      : undefined;
  const sync = api ? syncPlugin(options.sync) : undefined;
  const prometheus = options.metrics ?? prometheusMetrics();
  const services = createServices({ config, store, log, api });
  const { scenes, logins, invites, webAuth, users } = services;
  // The outbox of late replies, unless the caller brings its own hook.
  const outbox = api && !options.onLateReply ? new LateReplies({ api, store, users, log, metrics: prometheus.metrics }) : undefined;
  const consoleOn = Boolean(options.emulator || settings.consoleToken);
  const events = new EventLog();
  const renderer = new QrRenderer();
  const bot = new Bot<BotContext, BotServices>({
    services,
    plugins: [
      ...(consoleOn ? [events.plugin() as Plugin] : []),
      // WeChat knows who followed, left and wrote, since it sent the pushes: so does its emulator.
      ...(options.emulator ? [emulatorWitness(options.emulator)] : []),
      ...defaultPlugins(config.plugins, options.plugins),
      ...(sync ? [sync] : []),
      // Not steps of the chain: the QR renderer's worker stops when the bot closes, and the outbox
      // sends what an earlier instance left once the bot starts.
      { name: 'qr-renderer', close: () => renderer.close() },
      ...(outbox ? [{ name: 'late-replies', init: () => outbox.start(), close: () => outbox.close() }] : []),
    ],
    // Three assignments rather than Object.assign of a fresh object: this runs for every push.
    decorate: (ctx) => {
      const flavored = ctx as { -readonly [K in 'api' | 'logins' | 'invites']: BotContext[K] };
      flavored.api = api;
      flavored.logins = logins;
      flavored.invites = invites;
    },
  });
  await bot.init();

  const app = new Koa();
  // Behind a TLS proxy: koa.secure (Secure cookies), koa.host and koa.ip come from X-Forwarded-*.
  // The client's address is the last one of X-Forwarded-For, the one our proxy added: the ones
  // before it are whatever the client sent.
  app.proxy = Boolean(settings.trustProxy);
  app.maxIpsCount = 1;
  // What Koa reports outside the middleware (a connection cut by its client or by the request
  // timeout) goes to the log, not to stderr, which is Koa's default.
  app.on('error', (error: { code?: string; message?: string }) => {
    log.warn({ code: error?.code }, `request not completed: ${error?.message ?? error}`);
  });
  // One error path: anything unexpected is logged and answered without a stack trace.
  // (Koa's next() returns a promise even when the middleware after it throws.)
  app.use((koa, next) =>
    next().catch((error: unknown) => {
      koa.type = 'text/plain';
      const status = clientErrorStatus(error);
      if (status) {
        // The client's mistake (a body that is not JSON, too large, …): its fields may hold what it sent.
        log.warn({ status, path: koa.path }, 'request refused');
        koa.status = status;
        koa.body = (error as { expose?: unknown }).expose === true ? (error as Error).message : STATUS_CODES[status];
        return;
      }
      log.error({ err: error, path: koa.path }, 'request failed');
      koa.status = 500;
      koa.body = 'internal error';
    }),
  );
  // The emulator's console needs no login: only pages of this machine may reach it.
  if (settings.emulator) app.use(hostCheck(settings.host));
  app.use(identityBodiesOnly);
  const onLateReply = options.onLateReply ?? outbox?.send;
  const transport = wechatRouter(bot, {
    token: settings.token,
    log,
    deadlineMs: settings.deadlineMs,
    replay: replayGuard({ maxSkewS: settings.maxSkewS ?? 300, store, log }),
    encryptedOnly: settings.mode === 'safe',
    metrics: prometheus.metrics,
    ...(crypto ? { crypto } : {}),
    ...(onLateReply ? { onLateReply } : {}),
  });
  app.use(transport.routes());
  // After the callback, which answers WeChat's servers only: every other response may reach a browser.
  app.use(noSniff);
  app.use(apiRequestLimit(store, ['/api/', '/console/api/', '/demo/api/']));
  app.use(opsRoutes({ store, metricsToken: settings.metricsToken, metrics: prometheus.text }).routes());
  app.use(qrRoutes({ config, store, renderer }).routes());
  app.use(
    consoleRoutes({
      config,
      store,
      log,
      events,
      api,
      emulator: options.emulator,
      wechatToken: settings.token,
      consoleToken: settings.consoleToken,
    }).routes(),
  );
  // Before the login API: both answer under /api, each route behind the same bearer guard.
  if (webAuth && api) {
    const publicUrl = settings.publicUrl;
    app.use(
      oauthRoutes({ webAuth, api, store, log, publicUrl, apiToken: settings.apiToken, emulator: Boolean(settings.emulator) }).routes(),
    );
  }
  if (logins) {
    const perMinute = config.login.ratePerMinute;
    app.use(loginApi({ logins, store, log, renderer, token: settings.apiToken, ...(perMinute ? { perMinute } : {}) }).routes());
    if (settings.emulator) {
      app.use(loginApi({ logins, store, log, renderer, token: undefined, prefix: '/demo/api', open: true }).routes());
      app.use(demoLoginPage().routes());
    }
  }
  if (settings.emulator && webAuth && api) app.use(demoPages({ webAuth, api }).routes());
  return { app, bot, sync, scenes, logins, invites, webAuth, drain: transport.drain };
}

// A first step of the chain, in emulator mode: every push is shown to the emulator, as WeChat would know it.
function emulatorWitness(emulator: WechatEmulator): Plugin {
  return {
    name: 'emulator-witness',
    middleware: (ctx, next) => {
      emulator.observe(ctx.event);
      return next();
    },
  };
}

// The 4xx status an HTTP library put on its error (http-errors, co-body, raw-body: status or statusCode).
function clientErrorStatus(error: unknown): number | undefined {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code < 500 ? code : undefined;
}
