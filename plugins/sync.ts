import type { Plugin, ResolvedConfig } from '../core/config/bot-config.ts';
import type { Logger } from '../core/kernel/log.ts';
import type { WechatApi } from '../core/api/client.ts';
import { clearUncertain, createCampaignCode, creationState, readQrRecord, type CreationState } from '../core/api/qr-records.ts';
import type { Store } from '../core/state/store.ts';
import { syncConditionalMenus, syncTags, type AudienceAction } from './sync-audiences.ts';
import { sameMenu } from './sync-menu.ts';

export { sameMenu };

/** What one pass of the sync did (or, in a dry run, would do). */
export interface SyncReport {
  at: number;
  dryRun: boolean;
  menu: 'created' | 'unchanged' | 'not configured' | 'would create' | 'failed';
  campaigns: {
    name: string;
    action: 'created' | 'renewed' | 'kept' | 'would create' | 'would renew' | 'failed' | 'uncertain';
    expiresAt?: number;
  }[];
  /** The tags the config names: found, or created. */
  tags: AudienceAction[];
  /** The conditional menus: added, re-created when changed, deleted when gone from the config. */
  conditionalMenus: AudienceAction[];
  errors: string[];
  /** Problems that need a person, not a retry. */
  warnings: string[];
}

/** What {@link syncOnce} applies, and to which account. */
export interface SyncTarget {
  api: WechatApi;
  config: ResolvedConfig;
}

/** Options of {@link syncPlugin}. */
export interface SyncOptions {
  /** Delays between retries after a failed pass; the last one repeats. */
  retryMs?: readonly number[];
  /** Renew a temporary code when this share of its lifetime is left. */
  renewAtShare?: number;
}

/** The key of the last report, for the console and `npm run sync`. */
export const LAST_SYNC_KEY = 'sync:last';

/**
 * Applies bot.config.ts to the account: the menu (only when it differs), each campaign's code
 * (a permanent one once, ever; a temporary one renewed before it expires).
 * @example
 * const report = await syncOnce({ api, config }, store, log, { dryRun: true })
 */
export async function syncOnce(
  target: SyncTarget,
  store: Store,
  log: Logger,
  { dryRun = false, retryUncertain = false, renewAtShare = 0.1 } = {},
): Promise<SyncReport> {
  const { api, config } = target;
  const report: SyncReport = {
    at: Date.now(),
    dryRun,
    menu: 'not configured',
    campaigns: [],
    tags: [],
    conditionalMenus: [],
    errors: [],
    warnings: [],
  };
  const fail = (what: string, error: unknown) => {
    const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    report.errors.push(message);
    log.error({ err: error }, `sync: ${message}`);
  };

  if (config.menu) {
    try {
      const current = await api.getMenu();
      if (current && sameMenu(current.menu, config.menu)) report.menu = 'unchanged';
      else if (dryRun) report.menu = 'would create';
      else {
        await api.createMenu(config.menu);
        report.menu = 'created';
      }
    } catch (error) {
      report.menu = 'failed';
      fail('menu', error);
    }
  }

  // Tags before the conditional menus that name them; both after the default menu they need.
  let tagIds = new Map<string, number>();
  try {
    tagIds = await syncTags(api, config, dryRun, report.tags);
  } catch (error) {
    fail('tags', error);
  }
  if (config.menu && report.menu !== 'failed') {
    try {
      await syncConditionalMenus(api, store, config, tagIds, dryRun, report.conditionalMenus);
    } catch (error) {
      fail('conditional menus', error);
    }
  }

  for (const [name, campaign] of config.campaigns) {
    try {
      const record = await readQrRecord(store, campaign);
      const due = record?.expiresAt !== undefined && record.expiresAt - Date.now() < campaign.expireSeconds! * 1000 * renewAtShare;
      // Looked up only for a code that has to be made: a restart that keeps every code reads nothing more.
      const { state, since } = record && !due ? NO_CREATION : retryUncertain ? NO_CREATION : await creationState(store, campaign);
      if (record && !due) {
        report.campaigns.push({ name, action: 'kept', ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}) });
      } else if (state === 'underway') {
        throw new Error(
          `another instance holds the claim to create the permanent code of scene ${campaign.scene} (since ${new Date(since!).toISOString()}): looking again shortly`,
        );
      } else if (state === 'interrupted') {
        report.campaigns.push({ name, action: 'uncertain' });
        const warning = `campaign ${name}: a permanent code for scene ${campaign.scene} was being created when its answer was lost (a crash or a time-out); WeChat may have made it. Not creating it again by itself, since each one uses up the account's 100,000 for ever: check, then run npm run sync -- --retry-uncertain`;
        report.warnings.push(warning);
        log.error(`sync: ${warning}`);
      } else if (dryRun) {
        report.campaigns.push({ name, action: record ? 'would renew' : 'would create' });
      } else {
        if (retryUncertain) await clearUncertain(store, campaign);
        const created = await createCampaignCode(api, store, campaign);
        report.campaigns.push({
          name,
          action: record ? 'renewed' : 'created',
          ...(created.expiresAt ? { expiresAt: created.expiresAt } : {}),
        });
      }
    } catch (error) {
      report.campaigns.push({ name, action: 'failed' });
      fail(`campaign ${name}`, error);
    }
  }

  if (!dryRun) await store.set(LAST_SYNC_KEY, report).catch((error: unknown) => log.warn({ err: error }, 'sync: report not saved'));
  return report;
}

const NO_CREATION: CreationState = { state: 'none' };

/**
 * The sync as a plugin: runs in the background at start-up so the callback route answers from the
 * first second, retries with backoff while WeChat fails, and wakes up to renew temporary codes.
 * @example
 * const sync = syncPlugin({ retryMs: [1000, 60_000] }); bot.use(sync); await bot.init(); await sync.firstPass
 */
export function syncPlugin(options: SyncOptions = {}): Plugin & { readonly firstPass: Promise<SyncReport> } {
  const retryMs = options.retryMs ?? [1000, 2000, 5000, 15_000, 60_000, 300_000];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveFirst!: (report: SyncReport) => void;
  const firstPass = new Promise<SyncReport>((resolve) => (resolveFirst = resolve));

  const schedule = (delayMs: number, run: () => void) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, Math.min(delayMs, 2 ** 31 - 1)); // setTimeout's ceiling is ~24.8 days
    timer.unref();
  };

  const pass = async (target: SyncTarget, store: Store, log: Logger, failures: number): Promise<void> => {
    const report = await syncOnce(target, store, log, { renewAtShare: options.renewAtShare ?? 0.1 });
    if (failures > 0 && report.errors.length === 0)
      log.info({ attempts: failures + 1 }, 'sync: the earlier attempt failed; this one succeeded');
    resolveFirst(report);
    if (report.errors.length > 0) {
      const delay = retryMs[Math.min(failures, retryMs.length - 1)]!;
      log.warn(
        { errors: report.errors.length, retryInMs: delay },
        `sync: incomplete (${report.errors[0]}${report.errors.length > 1 ? `, and ${report.errors.length - 1} more` : ''}): the earlier attempt failed, retrying in ${Math.round(delay / 1000)} s`,
      );
      return schedule(delay, () => void pass(target, store, log, failures + 1));
    }
    log.info({ menu: report.menu, campaigns: report.campaigns.map((c) => `${c.name}:${c.action}`) }, 'sync: account matches bot config');
    const renewals = report.campaigns.flatMap((c) => {
      const campaign = target.config.campaigns.get(c.name);
      return c.expiresAt && campaign?.expireSeconds ? [c.expiresAt - campaign.expireSeconds * 1000 * (options.renewAtShare ?? 0.1)] : [];
    });
    if (renewals.length > 0) schedule(Math.max(1000, Math.min(...renewals) - Date.now() + 1000), () => void pass(target, store, log, 0));
  };

  return {
    name: 'sync',
    firstPass,
    init({ api, config, store, log }) {
      // Thrown, this leaves the plugin out and says so: there is no account to apply the config to.
      if (!api) throw new Error('the sync needs WeChat’s API (WECHAT_APPID, or the emulator)');
      void pass({ api, config }, store, log.child({ plugin: 'sync' }), 0).catch((error: unknown) =>
        log.error({ err: error }, 'sync: crashed'),
      );
    },
    close() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
