import type { BotContext, Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import { answer, type ContextOf } from '../core/kernel/filters.ts';
import type { Scenes } from '../core/features/scenes.ts';
import type { Counter, Store } from '../core/state/store.ts';

/** A campaign's counters. Anonymous: they survive the purge of the users they count. */
export interface CampaignStats {
  /** Every scan of the code: follows through it and scans by followers. */
  scans: number;
  /** New followers the code brought. */
  follows: number;
  /** Followers it brought who later unfollowed. */
  unfollows: number;
}

const METRICS = ['scans', 'follows', 'unfollows'] as const;
const counterKey = (campaign: string, metric: keyof CampaignStats) => `campaign:${campaign}:${metric}`;
// Hourly buckets for charts; kept a month.
const HOUR = 3600_000;
const bucketKey = (campaign: string, metric: keyof CampaignStats, hour: number) => `campaign:${campaign}:${metric}@${hour}`;

/** A campaign's counters hour by hour: `hours[i]` is the start of bucket i (epoch ms). */
export interface CampaignSeries {
  hours: number[];
  scans: number[];
  follows: number[];
  unfollows: number[];
}

/**
 * Reads a campaign's hourly counters for the last `hours` hours.
 * @example
 * await campaignSeries(store, 'springPoster', 48) // { hours: [...], scans: [0, 3, …], … }
 */
export async function campaignSeries<N extends string = string>(store: Store, campaign: NoInfer<N>, hours = 48): Promise<CampaignSeries> {
  const now = Math.floor(Date.now() / HOUR);
  const buckets = Array.from({ length: hours }, (_, i) => now - hours + 1 + i);
  const read = (metric: keyof CampaignStats) =>
    Promise.all(buckets.map(async (h) => (await store.get<number>(bucketKey(campaign, metric, h))) ?? 0));
  const [scans, follows, unfollows] = await Promise.all(METRICS.map(read));
  return { hours: buckets.map((h) => h * HOUR), scans: scans!, follows: follows!, unfollows: unfollows! };
}

/**
 * Reads a campaign's counters. Given the config's campaign names, a name that is not one of them
 * does not compile.
 * @example
 * await campaignStats(store, 'springPoster') // { scans: 12, follows: 9, unfollows: 1 }
 * await campaignStats<CampaignNamesOf<typeof config>>(store, 'springPoster')
 */
export async function campaignStats<N extends string = string>(store: Store, campaign: NoInfer<N>): Promise<CampaignStats> {
  const values = await Promise.all(METRICS.map((m) => store.get<number>(counterKey(campaign, m))));
  return { scans: values[0] ?? 0, follows: values[1] ?? 0, unfollows: values[2] ?? 0 };
}

// The metrics each kind of push moves.
const MOVES = { follow: ['scans', 'follows'], scan: ['scans'], unfollow: ['unfollows'] } as const;
type Push = keyof typeof MOVES;

// The counters a push moves, made once per campaign and hour rather than once per push: every push
// of that hour moves the same keys, and a key string used again is not hashed again by the store.
class CampaignCounters {
  #hour = -1;
  #made = new Map<string, Record<Push, readonly Counter[]>>();

  of(campaign: string, push: Push): readonly Counter[] {
    const hour = Math.floor(Date.now() / HOUR);
    if (hour !== this.#hour) {
      this.#hour = hour;
      this.#made.clear();
    }
    let made = this.#made.get(campaign);
    if (!made) {
      const make = (metrics: readonly (keyof CampaignStats)[]) =>
        metrics.flatMap((metric) => [
          { key: counterKey(campaign, metric) },
          { key: bucketKey(campaign, metric, hour), ttlMs: 31 * 24 * HOUR },
        ]);
      made = { follow: make(MOVES.follow), scan: make(MOVES.scan), unfollow: make(MOVES.unfollow) };
      this.#made.set(campaign, made);
    }
    return made[push];
  }
}

/**
 * Finds the campaign of a scanned code (subscribe with qrscene_, or SCAN), records who it
 * brought, counts, and answers a follower's scan with the campaign's `scan` reply.
 * The welcome of a new follower is the welcome plugin's job.
 * @example
 * new Bot({ services, plugins: [sceneCampaign(), welcome()] }) // the config's campaigns, the services' scenes
 */
export function sceneCampaign(): Plugin {
  let store: Store | undefined;
  let config: ResolvedConfig | undefined;
  let scenes: Scenes | undefined;
  const counters = new CampaignCounters();
  // A metric's total and its hourly bucket, for every metric of the push, in one store operation.
  const count = (ctx: BotContext, campaign: string, push: Push): Promise<void> =>
    (store?.incrementAll(counters.of(campaign, push)) ?? Promise.resolve()).catch((error: unknown) =>
      ctx.log.error({ err: error, campaign, metrics: MOVES[push] }, 'campaign counters not saved'),
    );
  return {
    name: 'scene-campaign',
    init(services) {
      ({ store, config, scenes } = services);
    },
    // Not async itself: a push it does not concern passes on without a promise of its own.
    middleware(ctx, next) {
      const event = ctx.event;
      if (event.type === 'unsubscribe') return unfollowed(ctx).then(next);
      if ((event.type !== 'subscribe' && event.type !== 'scan') || event.scene === undefined || !config) return next();
      if (scenes?.isDynamic(event.scene)) return routeDynamic(ctx, scenes, event.scene, event.type === 'subscribe').then(next);
      const name = config.scenes.get(event.scene);
      if (!name) {
        ctx.log.info({ scene: event.scene }, 'scan of a code no campaign declares');
        return next();
      }
      const newFollower = event.type === 'subscribe';
      ctx.campaign = { name, newFollower };
      if (newFollower) {
        // Both writes are waited for, even when one fails, so each failure is logged before the
        // reply goes (the counters log their own; the attribution's is the plugin's failure).
        return Promise.allSettled([count(ctx, name, 'follow'), ctx.user.update({ campaign: name, followedAt: event.createTime })])
          .then(([, attributed]) => {
            if (attributed.status === 'rejected') throw attributed.reason;
          })
          .then(next);
      }
      return scanned(ctx as ContextOf<'scan', BotContext>, name).then(next);
    },
  };

  async function unfollowed(ctx: BotContext): Promise<void> {
    const brought = (await ctx.user.get())?.campaign;
    if (brought && config?.campaigns.has(brought)) await count(ctx, brought, 'unfollow');
    await scenes?.unfollowed(ctx);
  }

  async function scanned(ctx: ContextOf<'scan', BotContext>, name: string): Promise<void> {
    await count(ctx, name, 'scan');
    const reply = config?.campaigns.get(name)?.scan;
    if (reply !== undefined) await answer(ctx, reply);
  }
}

// A code made at run time: its kind's handler answers, with the data the scene was bound to.
async function routeDynamic(ctx: BotContext, scenes: Scenes, scene: string, newFollower: boolean): Promise<void> {
  const record = await scenes.get(scene);
  if (!record) return void ctx.log.info('scan of a run-time code that does not exist (or is long gone)');
  const handler = scenes.handlerOf(record.kind);
  if (!handler) return void ctx.log.warn({ kind: record.kind }, 'scan of a run-time code whose kind has no handler');
  await answer(ctx, (c) => handler(c, { scene, kind: record.kind, data: record.data, newFollower, expiresAt: record.expiresAt }));
}
