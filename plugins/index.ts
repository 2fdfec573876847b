import type { Plugin } from '../core/config/bot-config.ts';
import { campaignTags } from './campaign-tags.ts';
import { clickRouter } from './click-router.ts';
import { dedupe, type DedupeOptions } from './dedupe.ts';
import { fallback } from './fallback.ts';
import { fileReplies, type FileRepliesOptions } from './file-replies.ts';
import { sceneCampaign } from './scene-campaign.ts';
import { unsubscribePurge } from './unsubscribe-purge.ts';
import { welcome } from './welcome.ts';

/** Options of {@link defaultPlugins}. */
export interface DefaultPluginsOptions {
  dedupe?: DedupeOptions;
  fileReplies?: FileRepliesOptions;
}

/**
 * The chain, top to bottom: dedupe → file replies → unsubscribe purge → campaign tags → scene campaign → welcome
 * → click router → the author's plugins → fallback. (Campaign tags act after the chain below it has
 * answered: it queues the tag once the campaign is known.) Each plugin takes what it needs from the services at init.
 * @example
 * new Bot({ services, plugins: defaultPlugins(services.config.plugins) })
 */
export function defaultPlugins(authorPlugins: readonly Plugin[] = [], options: DefaultPluginsOptions = {}): Plugin[] {
  return [
    dedupe(options.dedupe),
    fileReplies(options.fileReplies),
    unsubscribePurge(),
    campaignTags(),
    sceneCampaign(),
    welcome(),
    clickRouter(),
    ...authorPlugins,
    fallback(),
  ];
}

export { campaignSeries, campaignStats, type CampaignSeries, type CampaignStats } from './scene-campaign.ts';
export {
  campaignTags,
  clickRouter,
  dedupe,
  fallback,
  fileReplies,
  sceneCampaign,
  unsubscribePurge,
  welcome,
  type DedupeOptions,
  type FileRepliesOptions,
};
