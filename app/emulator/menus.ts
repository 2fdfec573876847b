import type { Menu } from '../../core/protocol/menu.ts';
import { error, ok, type Json } from './answers.ts';
import type { EmulatedUser } from './users.ts';

/** A conditional menu the emulator holds. */
export interface EmulatedConditionalMenu {
  menuid: number;
  button: Menu['button'];
  matchrule: Record<string, string>;
}

const RULE_FIELDS = ['tag_id', 'client_platform_type'];
// WeChat refuses these since 2022 (65320): it matches on the tag and the platform only.
const RETIRED_FIELDS = ['sex', 'country', 'province', 'city', 'language'];

/**
 * The account's menu and its conditional menus (个性化菜单), refused and answered as WeChat does:
 * 65303 without a default menu, 65304 for an empty matchrule, 65301 for an unknown menuid.
 */
export class EmulatedMenus {
  menu: Menu | undefined;
  readonly conditional: EmulatedConditionalMenu[] = [];
  #nextId = 400_000_001;

  create(body: Json): Json {
    const refused = menuError(body.button);
    if (refused) return refused;
    this.menu = JSON.parse(JSON.stringify({ button: body.button })) as Menu;
    return ok();
  }

  /** menu/delete: the default menu and every conditional one. */
  delete(): Json {
    this.menu = undefined;
    this.conditional.length = 0;
    return ok();
  }

  // menu/get answers as WeChat does: every leaf carries an empty sub_button.
  get(): Json {
    if (!this.menu) return error(46003, 'menu no exist');
    return {
      menu: { button: withSubButtons(this.menu.button), menuid: 1 },
      ...(this.conditional.length > 0
        ? { conditionalmenu: this.conditional.map((m) => ({ button: withSubButtons(m.button), matchrule: m.matchrule, menuid: m.menuid })) }
        : {}),
    };
  }

  selfMenuInfo(): Json {
    if (!this.menu) return { is_menu_open: 0 };
    const button = this.menu.button.map((b) => ('sub_button' in b ? { name: b.name, sub_button: { list: b.sub_button } } : b));
    return { is_menu_open: 1, selfmenu_info: { button } };
  }

  addConditional(body: Json, tagExists: (id: number) => boolean): Json {
    if (!this.menu) return error(65303, 'there is no selfmenu, please create selfmenu first');
    const rule = body.matchrule as Json | undefined;
    if (rule && typeof rule === 'object' && RETIRED_FIELDS.some((f) => rule[f] !== undefined && rule[f] !== ''))
      return error(65320, 'sex, country, province, city and language are no longer supported in matchrule');
    const given = RULE_FIELDS.filter((f) => rule?.[f] !== undefined && rule[f] !== '');
    if (!rule || typeof rule !== 'object' || given.length === 0) return error(65304, 'match rule empty');
    if (rule.tag_id !== undefined && rule.tag_id !== '' && !tagExists(Number(rule.tag_id))) return error(45159, 'invalid tag id');
    const refused = menuError(body.button);
    if (refused) return refused;
    const menuid = this.#nextId++;
    const matchrule = Object.fromEntries(given.map((f) => [f, String(rule[f])]));
    this.conditional.push({ menuid, button: JSON.parse(JSON.stringify(body.button)) as Menu['button'], matchrule });
    return { menuid };
  }

  deleteConditional(body: Json): Json {
    const at = this.conditional.findIndex((m) => String(m.menuid) === String(body.menuid));
    if (at < 0) return error(65301, 'no such conditional menu');
    this.conditional.splice(at, 1);
    return ok();
  }

  /**
   * menu/trymatch: the newest conditional menu whose every rule the user meets, else the default.
   * A user with several tags is matched on the one put on last, as WeChat does; the emulator does
   * not know the user's phone, so a rule on client_platform_type does not match.
   */
  tryMatch(user: EmulatedUser | undefined): Json {
    if (!user || !user.subscribed) return error(65302, 'no such user');
    if (!this.menu) return error(46003, 'menu no exist');
    const meets = (field: string, value: string) => field === 'tag_id' && user.tags.at(-1) === Number(value);
    const match = [...this.conditional].reverse().find((m) => Object.entries(m.matchrule).every(([f, v]) => meets(f, v)));
    return { button: withSubButtons((match ?? this.menu).button) };
  }
}

const withSubButtons = (buttons: Menu['button']) => {
  const leaf = (b: object) => ({ ...b, sub_button: [] });
  return buttons.map((b) => ('sub_button' in b ? { name: b.name, sub_button: b.sub_button.map(leaf) } : leaf(b)));
};

// WeChat's menu rules, written here from the platform's documentation rather than shared with the
// client's validator, so the emulator can catch the client's mistakes: 40016–40020 at the top level
// (count, type, name, key, url), 40023–40027 in sub menus; name ≤ 16 bytes on top, ≤ 60 below.
const TYPES_WITH_KEY = [
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
];
const ALL_TYPES = [...TYPES_WITH_KEY, 'view', 'media_id', 'view_limited', 'article_id', 'article_view_limited', 'miniprogram'];
const utf8 = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : -1);

function menuError(buttons: unknown): Json | undefined {
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return error(40016, 'invalid button size');
  for (const button of buttons as Json[]) {
    if (Array.isArray(button.sub_button) && button.sub_button.length > 0) {
      if (utf8(button.name) < 1 || utf8(button.name) > 16) return error(40018, 'invalid button name size');
      if (button.sub_button.length > 5) return error(40023, 'invalid sub button size');
      for (const sub of button.sub_button as Json[]) {
        const refused = actionError(sub, 60, 40024);
        if (refused) return refused;
      }
    } else {
      const refused = actionError(button, 16, 40017);
      if (refused) return refused;
    }
  }
  return undefined;
}

// codes: the type errcode, then name, key, url follow it (40017…40020 or 40024…40027).
function actionError(button: Json, maxName: number, typeCode: number): Json | undefined {
  if (typeof button.type !== 'string' || !ALL_TYPES.includes(button.type)) return error(typeCode, 'invalid button type');
  if (utf8(button.name) < 1 || utf8(button.name) > maxName) return error(typeCode + 1, 'invalid button name size');
  if (TYPES_WITH_KEY.includes(button.type) && (utf8(button.key) < 1 || utf8(button.key) > 128))
    return error(typeCode + 2, 'invalid button key size');
  if ((button.type === 'view' || button.type === 'miniprogram') && (utf8(button.url) < 1 || utf8(button.url) > 1024)) {
    return error(typeCode + 3, 'invalid button url size');
  }
  if ((button.type === 'media_id' || button.type === 'view_limited') && utf8(button.media_id) < 1) return error(40007, 'invalid media_id');
  if ((button.type === 'article_id' || button.type === 'article_view_limited') && utf8(button.article_id) < 1)
    return error(40007, 'invalid article_id');
  if (button.type === 'miniprogram' && (utf8(button.appid) < 1 || utf8(button.pagepath) < 1))
    return error(40097, 'invalid args: appid and pagepath');
  return undefined;
}
