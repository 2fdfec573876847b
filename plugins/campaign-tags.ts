import type { CampaignFlavor, Plugin } from '../core/config/bot-config.ts';
import { CampaignTagger } from '../core/features/campaign-tags.ts';

/**
 * Puts a campaign's `tag` on every user its code brings, by follow or by scan, after the push is
 * answered (the tag calls go out in batches, off the push's path). An unfollow drops the user
 * from a batch not yet sent. Without WeChat's API, or without a campaign that tags, it does nothing.
 * @example
 * campaigns: { springPoster: { scene: 'spring-poster', expireSeconds: 604800, tag: '春季海报' } }
 */
export function campaignTags(options: { flushMs?: number } = {}): Plugin {
  let tagger: CampaignTagger | undefined;
  let tagOf: (campaign: string) => string | undefined = () => undefined;
  return {
    name: 'campaign-tags',
    init({ api, config, log }) {
      if (!api || config.tags.length === 0) return;
      tagger = new CampaignTagger({ api, log: log.child({ plugin: 'campaign-tags' }), ...options });
      tagOf = (name) => config.campaigns.get(name)?.tag;
    },
    async middleware(ctx, next) {
      await next();
      if (!tagger) return;
      const { event } = ctx;
      if (event.type === 'unsubscribe') return tagger.forget(event.from);
      const campaign = (ctx as CampaignFlavor).campaign;
      const tag = campaign && !ctx.duplicate ? tagOf(campaign.name) : undefined;
      if (tag && (event.type === 'subscribe' || event.type === 'scan')) tagger.add(event.from, tag);
    },
    close: () => tagger?.close(),
  };
}
