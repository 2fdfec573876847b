import type { BotContext, Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import { answer, type ContextOf } from '../core/kernel/filters.ts';
import type { Store } from '../core/state/store.ts';

/**
 * Routes menu `CLICK` keys to their replies or handlers. An unknown key is logged and falls
 * through. `VIEW` (a menu link) is logged and counted; WeChat shows no reply to it.
 * @example
 * new Bot({ services, plugins: [clickRouter()] }) // the answers are the config's `clicks`
 */
export function clickRouter(): Plugin {
  let store: Store | undefined;
  let config: ResolvedConfig | undefined;
  return {
    name: 'click-router',
    init(services) {
      ({ store, config } = services);
    },
    middleware(ctx, next) {
      const event = ctx.event;
      if (event.type === 'view') {
        ctx.log.info({ url: event.url }, 'menu link opened');
        const counted = store?.increment('menu:views').catch((error: unknown) => ctx.log.error({ err: error }, 'view counter not saved'));
        return Promise.resolve(counted).then(next);
      }
      if (event.type !== 'click') return next();
      const given = config?.clicks.get(event.key);
      if (given === undefined) {
        ctx.log.warn({ key: event.key }, 'click on a key with no answer');
        return next();
      }
      return answer(ctx as ContextOf<'click', BotContext>, given).then(next);
    },
  };
}
