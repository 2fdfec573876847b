import Koa from 'koa';
import { Bot } from '../core/bot.ts';
import type { BotContext, ResolvedConfig } from '../core/config.ts';
import { WechatCrypto } from '../core/crypto.ts';
import type { Logger } from '../core/log.ts';
import type { NormalReply } from '../core/reply.ts';
import type { Store } from '../core/store.ts';
import { wechatRouter } from '../core/transport.ts';
import { defaultPlugins, type DefaultPluginsOptions } from '../plugins/index.ts';
import type { Settings } from './settings.ts';

/** Options of {@link createApp}. */
export interface AppOptions {
  settings: Pick<Settings, 'token' | 'appId' | 'aesKeys' | 'deadlineMs'>;
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  plugins?: DefaultPluginsOptions;
  onLateReply?(ctx: BotContext, reply: NormalReply): void | Promise<void>;
}

/**
 * Builds the bot and the Koa app serving it at /wechat. Throws for a malformed EncodingAESKey.
 * @example
 * const { app, bot } = await createApp({ settings, config, store, log })
 * app.listen(3000, '127.0.0.1')
 */
export async function createApp(options: AppOptions): Promise<{ app: Koa; bot: Bot<BotContext> }> {
  const { settings, log } = options;
  const crypto =
    settings.aesKeys.length > 0
      ? new WechatCrypto({ token: settings.token, appId: settings.appId, encodingAESKeys: settings.aesKeys })
      : undefined;
  const bot = new Bot<BotContext>({ store: options.store, log, plugins: defaultPlugins(options.config, options.plugins) });
  await bot.init();
  const app = new Koa();
  // One error path: anything unexpected is logged and answered without a stack trace.
  app.use(async (koa, next) => {
    try {
      await next();
    } catch (error) {
      log.error({ err: error, path: koa.path }, 'request failed');
      koa.status = 500;
      koa.type = 'text/plain';
      koa.body = 'internal error';
    }
  });
  const router = wechatRouter(bot, {
    token: settings.token,
    log,
    deadlineMs: settings.deadlineMs,
    ...(crypto ? { crypto } : {}),
    ...(options.onLateReply ? { onLateReply: options.onLateReply } : {}),
  });
  app.use(router.routes());
  return { app, bot };
}
