import type { BotContext, Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import { answer, type ContextOf } from '../core/kernel/filters.ts';

/**
 * On subscribe, answers with the welcome of the campaign that brought the user, else the default,
 * unless a run-time code's handler answered already.
 * @example
 * new Bot({ services, plugins: [sceneCampaign(), welcome()] }) // the config's `welcome`, or the campaign's
 */
export function welcome(): Plugin {
  let config: ResolvedConfig | undefined;
  return {
    name: 'welcome',
    init(services) {
      config = services.config;
    },
    middleware(ctx, next) {
      // A run-time code's handler (a login, an invite) may have answered the follow already.
      if (ctx.event.type !== 'subscribe' || ctx.response || !config) return next();
      const campaign = ctx.campaign ? config.campaigns.get(ctx.campaign.name) : undefined;
      const given = campaign?.welcome ?? config.welcome;
      return given === undefined ? next() : answer(ctx as ContextOf<'subscribe', BotContext>, given).then(next);
    },
  };
}
