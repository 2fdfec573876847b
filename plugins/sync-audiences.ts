import type { ConditionalMenuInfo, WechatApi } from '../core/api/client.ts';
import type { ResolvedConfig } from '../core/config/bot-config.ts';
import { TagIds } from '../core/features/tag-ids.ts';
import { wechatMatchRule } from '../core/protocol/conditional-menu.ts';
import type { Menu } from '../core/protocol/menu.ts';
import { ownedClaim } from '../core/state/owned-claim.ts';
import type { Store } from '../core/state/store.ts';
import { sameMenu } from './sync-menu.ts';

/** What the sync did to one tag or one conditional menu. */
export interface AudienceAction {
  name: string;
  /** left: a menu the sync found on the account, dropped from the config, stays there. */
  action:
    'created' | 'exists' | 'unchanged' | 'recreated' | 'deleted' | 'left' | 'would create' | 'would recreate' | 'would delete' | 'failed';
}

/** The conditional menus this bot added: their menuid and what they held, by config name. */
export const OWN_MENUS_KEY = 'sync:conditional-menus';
type OwnMenus = Record<
  string,
  { menuid: number; digest: string; /** Found on the account as configured, not added: never deleted. */ adopted?: boolean }
>;

/**
 * Creates the tags the config names that the account lacks. Returns the id of each, by name.
 * Never deletes a tag.
 */
export async function syncTags(
  api: WechatApi,
  config: ResolvedConfig,
  dryRun: boolean,
  report: AudienceAction[],
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (config.tags.length === 0) return ids;
  const tagIds = new TagIds(api);
  const existing = await tagIds.refresh();
  for (const name of config.tags) {
    const id = existing.get(name);
    if (id !== undefined) {
      ids.set(name, id);
      report.push({ name, action: 'exists' });
    } else if (dryRun) report.push({ name, action: 'would create' });
    else {
      ids.set(name, await tagIds.idOf(name));
      report.push({ name, action: 'created' });
    }
  }
  return ids;
}

/**
 * Applies the config's conditional menus. WeChat cannot change one: a changed menu is a
 * delconditional of the old menuid, then an addconditional. A restart with the same config
 * writes nothing. Only menus this bot added (kept in the store by name) are ever deleted; one
 * found on the account exactly as configured is taken over rather than added twice.
 */
export async function syncConditionalMenus(
  api: WechatApi,
  store: Store,
  config: ResolvedConfig,
  tagIds: ReadonlyMap<string, number>,
  dryRun: boolean,
  report: AudienceAction[],
): Promise<void> {
  const own = await store.get<OwnMenus>(OWN_MENUS_KEY);
  if (config.conditionalMenus.size === 0 && Object.keys(own ?? {}).length === 0) return;
  // Instances starting together (BOT_WORKERS, a rolling deploy) would each add the same menus:
  // one applies them, the others fail this pass and find them applied on the next.
  if (dryRun) return apply(api, store, config, tagIds, dryRun, report);
  const claim = await ownedClaim(store, CLAIM_KEY, 60_000);
  if (!claim.held) throw new Error('another instance is applying them: looking again shortly');
  try {
    await apply(api, store, config, tagIds, dryRun, report);
  } finally {
    await claim.release();
  }
}

const CLAIM_KEY = `${OWN_MENUS_KEY}:claim`;

async function apply(
  api: WechatApi,
  store: Store,
  config: ResolvedConfig,
  tagIds: ReadonlyMap<string, number>,
  dryRun: boolean,
  report: AudienceAction[],
): Promise<void> {
  const own = (await store.get<OwnMenus>(OWN_MENUS_KEY)) ?? {};
  const live = (await api.getMenu())?.conditionalmenu ?? [];
  const save = () => store.set(OWN_MENUS_KEY, own);

  for (const [name, menu] of config.conditionalMenus) {
    if (menu.matchrule.tag !== undefined && !tagIds.has(menu.matchrule.tag)) {
      report.push({ name, action: dryRun ? 'would create' : 'failed' });
      continue; // its tag is still to be made (a dry run), or failed above
    }
    const wanted = { button: menu.button, matchrule: wechatMatchRule(menu.matchrule, tagIds) };
    const digest = JSON.stringify(wanted);
    const mine = own[name];
    const current = mine && live.find((m) => Number(m.menuid) === mine.menuid);
    if (current && mine.digest === digest && sameConditional(current, wanted)) {
      report.push({ name, action: 'unchanged' });
      continue;
    }
    const twin = !mine ? live.find((m) => sameConditional(m, wanted) && !ownedMenuids(own).has(Number(m.menuid))) : undefined;
    if (twin) {
      own[name] = { menuid: Number(twin.menuid), digest, adopted: true };
      if (!dryRun) await save();
      report.push({ name, action: 'unchanged' });
      continue;
    }
    if (dryRun) {
      report.push({ name, action: mine ? 'would recreate' : 'would create' });
      continue;
    }
    if (current && !mine.adopted) await api.deleteConditionalMenu(mine.menuid);
    const menuid = await api.addConditionalMenu(wanted);
    own[name] = { menuid, digest };
    await save();
    report.push({ name, action: mine ? 'recreated' : 'created' });
  }

  // Menus this bot added that the config no longer has; one it found there stays on the account.
  for (const [name, { menuid, adopted }] of Object.entries(own)) {
    if (config.conditionalMenus.has(name)) continue;
    if (dryRun) {
      report.push({ name, action: 'would delete' });
      continue;
    }
    if (!adopted && live.some((m) => Number(m.menuid) === menuid)) await api.deleteConditionalMenu(menuid);
    delete own[name];
    await save();
    report.push({ name, action: adopted ? 'left' : 'deleted' });
  }
}

const ownedMenuids = (own: OwnMenus) => new Set(Object.values(own).map((m) => m.menuid));

// As menu/get lists it: the buttons as WeChat stores them, the rule's empty fields left out.
function sameConditional(live: ConditionalMenuInfo, wanted: { button: Menu['button']; matchrule: Record<string, string> }): boolean {
  const rule = Object.fromEntries(Object.entries(live.matchrule ?? {}).filter(([, v]) => v !== undefined && v !== '' && v !== null));
  const keys = new Set([...Object.keys(rule), ...Object.keys(wanted.matchrule)]);
  for (const key of keys) if (String(rule[key as keyof typeof rule] ?? '') !== (wanted.matchrule[key] ?? '')) return false;
  return sameMenu(live, { button: wanted.button });
}
