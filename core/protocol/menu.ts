/**
 * The custom menu in WeChat's own JSON shape, and its limits, checked before anything is sent.
 */

/** Button types that carry a `key` pushed back to us. */
export const KEY_TYPES = [
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
] as const;

/** One action button. */
export type MenuAction =
  | { readonly type: (typeof KEY_TYPES)[number]; readonly name: string; readonly key: string }
  | { readonly type: 'view'; readonly name: string; readonly url: string }
  | { readonly type: 'media_id' | 'view_limited'; readonly name: string; readonly media_id: string }
  | { readonly type: 'article_id' | 'article_view_limited'; readonly name: string; readonly article_id: string }
  | { readonly type: 'miniprogram'; readonly name: string; readonly url: string; readonly appid: string; readonly pagepath: string };

/** A top-level button: an action, or a sub menu of 1–5 actions. */
export type MenuButton = MenuAction | { readonly name: string; readonly sub_button: readonly MenuAction[] };

/**
 * A menu as `menu/create` takes it.
 * @example
 * const menu = { button: [{ type: 'click', name: '今日推荐', key: 'TODAY' }] } satisfies Menu
 */
export interface Menu {
  readonly button: readonly MenuButton[];
}

/** The `click` keys of a menu, as a union of literal types. */
export type ClickKeysOf<M> = M extends { readonly button: readonly (infer B)[] } ? ClickKeyOf<B> : never;
type ClickKeyOf<B> = B extends { readonly type: 'click'; readonly key: infer K extends string }
  ? K
  : B extends { readonly sub_button: readonly (infer S)[] }
    ? S extends { readonly type: 'click'; readonly key: infer K extends string }
      ? K
      : never
    : never;

const TYPES = new Set<string>([...KEY_TYPES, 'view', 'media_id', 'view_limited', 'article_id', 'article_view_limited', 'miniprogram']);
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** One problem found in a config, with the exact path to it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * Checks a menu against WeChat's limits; returns every problem, each with its path.
 * @example
 * validateMenu({ button: [] }) // [{ path: 'menu.button', message: 'a menu holds 1 to 3 buttons' }]
 */
export function validateMenu(menu: unknown, path = 'menu'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const buttons = (menu as { button?: unknown } | null)?.button;
  if (!Array.isArray(buttons)) return [{ path: `${path}.button`, message: 'must be a list of buttons' }];
  if (buttons.length < 1) issues.push({ path: `${path}.button`, message: 'a menu holds 1 to 3 buttons' });
  if (buttons.length > 3) issues.push({ path: `${path}.button[3]`, message: 'a menu holds at most 3 buttons' });
  const keys = new Map<string, string>();
  buttons.slice(0, 3).forEach((button: unknown, i) => {
    const at = `${path}.button[${i}]`;
    if (!isObject(button)) return issues.push({ path: at, message: 'must be a button object' });
    if ('sub_button' in button && button.sub_button !== undefined) {
      checkName(button.name, 16, at, issues);
      const subs = button.sub_button;
      if (!Array.isArray(subs)) return issues.push({ path: `${at}.sub_button`, message: 'must be a list of buttons' });
      if (subs.length < 1) issues.push({ path: `${at}.sub_button`, message: 'a sub menu holds 1 to 5 buttons' });
      if (subs.length > 5) issues.push({ path: `${at}.sub_button[5]`, message: 'a sub menu holds at most 5 buttons' });
      subs.slice(0, 5).forEach((sub: unknown, j) => checkAction(sub, 60, `${at}.sub_button[${j}]`, issues, keys));
    } else {
      checkAction(button, 16, at, issues, keys);
    }
  });
  return issues;
}

/** The key of every `click` button, with its path. */
export function clickKeysIn(menu: Menu | undefined, path = 'menu', found = new Map<string, string>()): Map<string, string> {
  menu?.button.forEach((button, i) => {
    const actions =
      'sub_button' in button
        ? button.sub_button.map((b, j) => [b, `${path}.button[${i}].sub_button[${j}]`] as const)
        : [[button, `${path}.button[${i}]`] as const];
    for (const [action, path] of actions) if (action.type === 'click') found.set(action.key, path);
  });
  return found;
}

function checkAction(button: unknown, maxName: number, at: string, issues: ConfigIssue[], keys: Map<string, string>): void {
  if (!isObject(button)) return void issues.push({ path: at, message: 'must be a button object' });
  checkName(button.name, maxName, at, issues);
  const type = button.type;
  if (typeof type !== 'string' || !TYPES.has(type)) {
    return void issues.push({
      path: `${at}.type`,
      message: `unknown button type ${JSON.stringify(type)}; use one of ${[...TYPES].join(', ')}`,
    });
  }
  if ((KEY_TYPES as readonly string[]).includes(type)) {
    if (checkText(button.key, 'key', 128, at, issues)) {
      const key = button.key as string;
      const first = keys.get(key);
      if (first) issues.push({ path: `${at}.key`, message: `key ${JSON.stringify(key)} is already used by ${first}` });
      else keys.set(key, at);
    }
  }
  if (type === 'view' || type === 'miniprogram') checkText(button.url, 'url', 1024, at, issues);
  if (type === 'media_id' || type === 'view_limited') checkText(button.media_id, 'media_id', Infinity, at, issues);
  if (type === 'article_id' || type === 'article_view_limited') checkText(button.article_id, 'article_id', Infinity, at, issues);
  if (type === 'miniprogram') {
    checkText(button.appid, 'appid', Infinity, at, issues);
    checkText(button.pagepath, 'pagepath', Infinity, at, issues);
  }
}

function checkName(name: unknown, max: number, at: string, issues: ConfigIssue[]): void {
  if (typeof name !== 'string' || name === '') return void issues.push({ path: `${at}.name`, message: 'a button needs a name' });
  if (bytes(name) > max) {
    issues.push({
      path: `${at}.name`,
      message: `${JSON.stringify(name)} is ${bytes(name)} bytes; at most ${max} bytes here (a Chinese character is 3)`,
    });
  }
}

function checkText(value: unknown, field: string, max: number, at: string, issues: ConfigIssue[]): boolean {
  if (typeof value !== 'string' || value === '') {
    issues.push({ path: `${at}.${field}`, message: `this button type needs a ${field}` });
    return false;
  }
  if (bytes(value) > max) {
    issues.push({ path: `${at}.${field}`, message: `${field} is ${bytes(value)} bytes; at most ${max}` });
    return false;
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
