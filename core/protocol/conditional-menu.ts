import { validateMenu, type ConfigIssue, type Menu } from './menu.ts';

/**
 * Who sees a conditional menu (个性化菜单), as bot.config.ts declares it: `tag` names a tag (the
 * framework finds or creates it and sends its tag_id). WeChat matches on the tag and the client's
 * platform only: it refuses sex, country, province, city and language (65320) since 2022.
 */
export interface MatchRuleConfig {
  readonly tag?: string;
  /** '1' iOS, '2' Android, '3' others. */
  readonly client_platform_type?: '1' | '2' | '3';
}

/** A conditional menu in bot.config.ts: WeChat's menu JSON and its rule. */
export type ConditionalMenuConfig = Menu & { readonly matchrule: MatchRuleConfig };

/** WeChat's limits on tags. */
export const TAG_NAME_MAX_BYTES = 30;
export const TAGS_PER_ACCOUNT = 100;

const RULE_FIELDS = ['tag', 'client_platform_type'] as const;
// What WeChat no longer matches on, and refuses (65320).
const RETIRED_FIELDS = ['sex', 'country', 'province', 'city', 'language'];
const CHOICES: Partial<Record<(typeof RULE_FIELDS)[number], readonly string[]>> = {
  client_platform_type: ['1', '2', '3'],
};

/** Checks a tag name as WeChat does: 1 to 30 bytes of UTF-8 (10 Chinese characters). */
export function validateTagName(name: unknown, path: string): ConfigIssue[] {
  if (typeof name !== 'string' || name.trim() === '') return [{ path, message: 'must be a tag name (1 to 30 bytes)' }];
  const bytes = Buffer.byteLength(name);
  if (bytes > TAG_NAME_MAX_BYTES)
    return [{ path, message: `a tag name is at most 30 bytes (10 Chinese characters); this one is ${bytes}` }];
  return [];
}

/**
 * Checks a conditional menu against WeChat's rules: its buttons as a menu's, and a matchrule with
 * at least one of the fields WeChat still matches on (65304 for none, 65320 for the retired ones).
 * @example
 * validateConditionalMenu({ button: […], matchrule: {} }, 'conditionalMenus.vip') // [{ path: 'conditionalMenus.vip.matchrule', … }]
 */
export function validateConditionalMenu(menu: unknown, path: string): ConfigIssue[] {
  if (typeof menu !== 'object' || menu === null) return [{ path, message: 'must be { matchrule, button }' }];
  const issues = validateMenu(menu, path);
  const rule = (menu as { matchrule?: unknown }).matchrule;
  const at = `${path}.matchrule`;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    return [...issues, { path: at, message: `must be an object of ${RULE_FIELDS.join(', ')}` }];
  const given = rule as Record<string, unknown>;
  for (const field of Object.keys(given)) {
    if (RETIRED_FIELDS.includes(field))
      issues.push({
        path: `${at}.${field}`,
        message: 'WeChat no longer matches on sex, country, province, city or language, and refuses them (65320): use a tag',
      });
    else if (!(RULE_FIELDS as readonly string[]).includes(field))
      issues.push({ path: `${at}.${field}`, message: `is not a matchrule field (${RULE_FIELDS.join(', ')})` });
  }
  const present = RULE_FIELDS.filter((f) => given[f] !== undefined && given[f] !== '');
  if (present.length === 0)
    issues.push({ path: at, message: `needs at least one of ${RULE_FIELDS.join(', ')} (WeChat refuses an empty rule: 65304)` });
  for (const field of present) {
    const value = given[field];
    if (field === 'tag') issues.push(...validateTagName(value, `${at}.tag`));
    else if (typeof value !== 'string') issues.push({ path: `${at}.${field}`, message: 'must be a string' });
    else if (CHOICES[field] && !CHOICES[field].includes(value))
      issues.push({ path: `${at}.${field}`, message: `must be one of ${CHOICES[field].map((c) => `'${c}'`).join(', ')}` });
  }
  return issues;
}

/** The matchrule WeChat takes: `tag` resolved to its tag_id, the other fields as given. */
export function wechatMatchRule(rule: MatchRuleConfig, tagIds: ReadonlyMap<string, number>): Record<string, string> {
  const out: Record<string, string> = {};
  if (rule.tag !== undefined) out.tag_id = String(tagIds.get(rule.tag));
  if (rule.client_platform_type) out.client_platform_type = rule.client_platform_type;
  return out;
}
