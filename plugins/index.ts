import type { Plugin } from '../core/kernel/bot.ts';
import type { BotContext, ResolvedConfig } from '../core/config/bot-config.ts';
import type { Scenes } from '../core/features/scenes.ts';
import { clickRouter } from './click-router.ts';
import { dedupe, type DedupeOptions } from './dedupe.ts';
import { fallback } from './fallback.ts';
import { sceneCampaign } from './scene-campaign.ts';
import { unsubscribePurge } from './unsubscribe-purge.ts';
import { welcome } from './welcome.ts';

/** Options of {@link defaultPlugins}. */
export interface DefaultPluginsOptions {
  dedupe?: DedupeOptions;
  /** Routes scans of codes made at run time (logins, invites). */
  scenes?: Scenes;
}

/**
 * The chain, top to bottom: dedupe → unsubscribe purge → scene campaign → welcome → click router
 * → the author's plugins → fallback.
 * @example
 * new Bot({ store, log, plugins: defaultPlugins(resolveConfig(config)) })
 */
export function defaultPlugins(config: ResolvedConfig, options: DefaultPluginsOptions = {}): Plugin<BotContext>[] {
  return [
    dedupe(options.dedupe) as Plugin<BotContext>,
    unsubscribePurge() as Plugin<BotContext>,
    sceneCampaign(config, options.scenes),
    welcome(config),
    clickRouter(config),
    ...config.plugins,
    fallback(config),
  ];
}

export { campaignSeries, campaignStats, type CampaignSeries, type CampaignStats } from './scene-campaign.ts';
export { clickRouter, dedupe, fallback, sceneCampaign, unsubscribePurge, welcome, type DedupeOptions };
