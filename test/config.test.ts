import test from 'ava';
import { ConfigError, resolveConfig, type BotConfig } from '../core/config/bot-config.ts';
import { validateMenu } from '../core/protocol/menu.ts';
import { click } from '../core/kernel/filters.ts';
import { testConfig } from './_helpers.ts';

const paths = (config: BotConfig) => {
  try {
    resolveConfig(config);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
};
const action = (key: string) => ({ type: 'click', name: 'b', key }) as const;

test('a sub menu over 5 buttons names the exact path', (t) => {
  const menu = { button: [action('A'), { name: 'more', sub_button: ['1', '2', '3', '4', '5', '6'].map(action) }] };
  t.deepEqual(
    validateMenu(menu).map((i) => `${i.path}: ${i.message}`),
    ['menu.button[1].sub_button[5]: a sub menu holds at most 5 buttons'],
  );
});

test('menu limits: button count, byte lengths, types, required fields, duplicate keys', (t) => {
  const issues = (menu: unknown) => validateMenu(menu).map((i) => i.path + ': ' + i.message);
  t.deepEqual(issues({ button: [] }), ['menu.button: a menu holds 1 to 3 buttons']);
  t.deepEqual(issues({ button: [action('A'), action('B'), action('C'), action('D')] }), ['menu.button[3]: a menu holds at most 3 buttons']);
  // 6 Chinese characters are 18 bytes: over 16 at the top, fine in a sub menu (60).
  t.regex(issues({ button: [{ type: 'click', name: '六个中文字符', key: 'K' }] })[0]!, /^menu\.button\[0\]\.name: .*18 bytes; at most 16/);
  t.deepEqual(issues({ button: [{ name: 'm', sub_button: [{ type: 'click', name: '六个中文字符', key: 'K' }] }] }), []);
  t.regex(issues({ button: [{ type: 'tap', name: 'x', key: 'K' }] })[0]!, /^menu\.button\[0\]\.type: unknown button type "tap"/);
  t.deepEqual(issues({ button: [{ type: 'view', name: 'x' }] }), ['menu.button[0].url: this button type needs a url']);
  t.regex(
    issues({ button: [{ type: 'click', name: 'x', key: 'k'.repeat(129) }] })[0]!,
    /^menu\.button\[0\]\.key: key is 129 bytes; at most 128/,
  );
  t.regex(
    issues({ button: [{ type: 'view', name: 'x', url: 'https://e.com/' + 'a'.repeat(1024) }] })[0]!,
    /url is \d+ bytes; at most 1024/,
  );
  t.deepEqual(issues({ button: [{ name: 'm', sub_button: [] }] }), ['menu.button[0].sub_button: a sub menu holds 1 to 5 buttons']);
  t.deepEqual(issues({ button: [action('A'), action('A')] }), ['menu.button[1].key: key "A" is already used by menu.button[0]']);
  t.deepEqual(issues({ button: [{ type: 'miniprogram', name: 'x', url: 'https://e.com' }] }), [
    'menu.button[0].appid: this button type needs a appid',
    'menu.button[0].pagepath: this button type needs a pagepath',
  ]);
});

test('every click key needs an answer', (t) => {
  t.deepEqual(paths({ menu: { button: [action('A')] }, clicks: {} }), ['menu.button[0].key: click key "A" has no answer in clicks']);
});

test('an answer in clicks for a key no button of the menu has is an error; without a menu in the config, any key may be answered', (t) => {
  t.deepEqual(paths({ menu: { button: [action('TODAY')] }, clicks: { TODAY: 'a', TODAAY: 'b' } }), [
    'clicks.TODAAY: no click button of the menu has the key "TODAAY"',
  ]);
  // A menu made by hand in the account console: the config answers its keys, and declares no menu.
  t.deepEqual(paths({ clicks: { BY_HAND: 'a' } }), []);
});

test('a plugin whose middleware is click() on a key no button has stops the start, with its path', (t) => {
  const menu = { button: [action('TODAY')] };
  const plugins = [
    { name: 'ok', middleware: click('TODAY', () => 'x') },
    { name: 'typo', middleware: click('TODAAY', () => 'x') },
  ];
  t.deepEqual(paths({ menu, clicks: { TODAY: 'a' }, plugins }), [
    'plugins[1].middleware: click("TODAAY"): no click button of the menu has this key',
  ]);
});

test('campaign scenes are checked against WeChat ranges and each other', (t) => {
  t.deepEqual(paths({ campaigns: { a: { scene: 0, permanent: true } } }), [
    'campaigns.a.scene: a permanent numeric scene must be a whole number from 1 to 100000',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 100_001, permanent: true } } }), [
    'campaigns.a.scene: a permanent numeric scene must be a whole number from 1 to 100000',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 2 ** 32, expireSeconds: 60 } } }), [
    'campaigns.a.scene: a temporary numeric scene must be a whole number from 1 to 4294967295',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 'x'.repeat(65), permanent: true } } }), [
    'campaigns.a.scene: a string scene has 1 to 64 characters',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 'x', expireSeconds: 2_592_001 } } }), [
    'campaigns.a.expireSeconds: must be a whole number of seconds from 1 to 2592000 (30 days)',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 'x' } as never } }), [
    'campaigns.a: set permanent: true, or expireSeconds for a temporary code',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 7, permanent: true }, b: { scene: '7', permanent: true } } }), [
    'campaigns.b.scene: scene "7" is already used by campaigns.a',
  ]);
  t.deepEqual(paths({ campaigns: { a: { scene: 'qrscene_x', permanent: true } } }), [
    'campaigns.a.scene: must not start with qrscene_ (WeChat adds that prefix itself)',
  ]);
});

test('fixed replies in the config are checked too', (t) => {
  t.deepEqual(paths({ welcome: { type: 'news', articles: [] } }), ['welcome: a news reply holds 1 to 8 articles']);
});

test('ConfigError lists every problem in its message', (t) => {
  const error = t.throws(() => resolveConfig({ ...testConfig(), campaigns: { a: { scene: 0, permanent: true } }, welcome: '' }), {
    instanceOf: ConfigError,
  });
  t.regex(error.message, /welcome: a text reply needs content/);
  t.regex(error.message, /campaigns\.a\.scene/);
});
