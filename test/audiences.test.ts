// Campaigns that tag, and menus per audience: bot.config.ts's `tag` and `conditionalMenus`.
import test from 'ava';
import { ConfigError, resolveConfig } from '../core/config/bot-config.ts';
import { syncOnce } from '../plugins/sync.ts';
import { eventFields, memoryLogger, openid, readReply, startEmulator, startServer, testConfig, testMenu } from './_helpers.ts';

const taggedConfig = () =>
  testConfig({
    campaigns: {
      poster: { scene: 'poster', expireSeconds: 86_400, welcome: 'poster welcome', scan: 'poster scan', tag: '春季海报' },
      door: { scene: 1001, permanent: true },
    },
  });

const vipMenu = { button: [{ type: 'click', name: 'VIP', key: 'TODAY' }] } as const;

async function until(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 25));
}

test("a campaign's tag goes on the 500 users its code brings, in batchtagging calls of at most 50, after each push was answered", async (t) => {
  const { emulator, api } = await startEmulator(t);
  const server = await startServer(t, { api, config: taggedConfig() });
  const users = Array.from({ length: 500 }, () => openid());
  const replies = await Promise.all(
    users.map(async (user, i) =>
      readReply(
        await server.push(
          i % 5 === 0 ? eventFields(user, 'SCAN', { EventKey: 'poster' }) : eventFields(user, 'subscribe', { EventKey: 'qrscene_poster' }),
        ),
      ),
    ),
  );
  t.true(replies.every((r) => r !== 'success' && /poster (welcome|scan)/.test(String(r.Content))));
  const tagging = () => emulator.calls.filter((c) => c.api === 'tags/members/batchtagging');
  const tagged = async () => {
    const tag = (await api.tags.list()).find((x) => x.name === '春季海报');
    return tag?.count ?? 0;
  };
  await until(async () => (await tagged()) === 500);
  t.is(await tagged(), 500);
  t.true(
    tagging().every((c) => c.errcode === 0),
    'no call was refused: none carried over 50 OpenIDs (40032)',
  );
  // Batched: 10 calls at best; more on a loaded machine, where a call leaves before its batch fills.
  t.true(tagging().length >= 10 && tagging().length <= 100, `${tagging().length} calls`);
  // The sync and the tagger may both ask for it; WeChat refuses the second name (45157): one tag.
  t.is((await api.tags.list()).filter((x) => x.name === '春季海报').length, 1);
  t.deepEqual(await api.tags.ofUser(users[1]!), [(await api.tags.list()).find((x) => x.name === '春季海报')!.id]);
});

test('a user who unfollows before their batch leaves is not tagged; a door without a tag tags no one', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const server = await startServer(t, { api, config: taggedConfig() });
  const [leaver, stayer, walkIn] = [openid(), openid(), openid()];
  await server.push(eventFields(leaver, 'subscribe', { EventKey: 'qrscene_poster' }));
  await server.push(eventFields(leaver, 'unsubscribe'));
  await server.push(eventFields(stayer, 'subscribe', { EventKey: 'qrscene_poster' }));
  await server.push(eventFields(walkIn, 'subscribe', { EventKey: 'qrscene_1001' }));
  await until(() => emulator.count('tags/members/batchtagging') > 0);
  await server.bot.close(); // sends what waits, so nothing more can come
  const { id } = (await api.tags.list()).find((x) => x.name === '春季海报')!;
  const members: string[] = [];
  for await (const member of api.tags.members(id)) members.push(member);
  t.deepEqual(members, [stayer]);
});

test('conditional menus: tags made and menus added once; a restart writes nothing; a change is a delconditional then an addconditional; one the bot did not add is left alone', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const store = (await import('../core/state/open-store.ts')).openStore('memory://', { log: memoryLogger().log });
  const memory = await store;
  t.teardown(() => memory.close());
  const log = memoryLogger().log;
  const config = (button: typeof vipMenu.button | { type: 'click'; name: string; key: string }[]) =>
    resolveConfig(
      testConfig({
        conditionalMenus: {
          vip: { matchrule: { tag: 'VIP' }, button: [...button] },
          ios: { matchrule: { client_platform_type: '1' }, button: [{ type: 'view', name: 'App', url: 'https://example.com/app' }] },
        },
      }),
    );
  const first = await syncOnce({ api, config: config(vipMenu.button) }, memory, log);
  t.deepEqual(first.errors, []);
  t.deepEqual(first.tags, [{ name: 'VIP', action: 'created' }]);
  t.deepEqual(
    first.conditionalMenus.map((m) => `${m.name}:${m.action}`),
    ['vip:created', 'ios:created'],
  );
  const vipTag = (await api.tags.list()).find((x) => x.name === 'VIP')!;
  t.like(emulator.menus.conditional[0], { matchrule: { tag_id: String(vipTag.id) } });
  const stranger = await api.addConditionalMenu({
    button: [{ type: 'click', name: 'X', key: 'TODAY' }],
    matchrule: { client_platform_type: '2' },
  });
  const writes = () =>
    ['tags/create', 'menu/addconditional', 'menu/delconditional', 'menu/create'].map((name) => emulator.count(name)).join(',');
  const before = writes();

  const again = await syncOnce({ api, config: config(vipMenu.button) }, memory, log);
  t.deepEqual(
    again.conditionalMenus.map((m) => `${m.name}:${m.action}`),
    ['vip:unchanged', 'ios:unchanged'],
  );
  t.deepEqual(again.tags, [{ name: 'VIP', action: 'exists' }]);
  t.is(writes(), before, 'nothing written on a restart');

  const oldId = emulator.menus.conditional.find((m) => m.matchrule.tag_id)!.menuid;
  const changed = await syncOnce({ api, config: config([{ type: 'click', name: '贵宾', key: 'TODAY' }]) }, memory, log);
  t.deepEqual(
    changed.conditionalMenus.map((m) => `${m.name}:${m.action}`),
    ['vip:recreated', 'ios:unchanged'],
  );
  t.is(emulator.count('menu/delconditional'), 1);
  t.false(
    emulator.menus.conditional.some((m) => m.menuid === oldId),
    'the old menu is gone',
  );
  emulator.users.follow('oVip');
  await api.tags.tag(vipTag.id, ['oVip']);
  t.like(await api.tryMatchMenu('oVip'), { button: [{ name: '贵宾' }] });

  const dropped = await syncOnce({ api, config: resolveConfig(testConfig()) }, memory, log);
  t.deepEqual(
    dropped.conditionalMenus.map((m) => `${m.name}:${m.action}`),
    ['vip:deleted', 'ios:deleted'],
  );
  t.deepEqual(
    emulator.menus.conditional.map((m) => m.menuid),
    [stranger],
    'the menu the bot did not add is still there, and the tag too',
  );
  t.truthy((await api.tags.list()).find((x) => x.name === 'VIP'));
});

test('tags and conditional menus are checked at start with their paths: names over 30 bytes, an empty matchrule, a field WeChat retired (65320), no default menu, a click key without an answer', (t) => {
  const error = t.throws(
    () =>
      resolveConfig(
        testConfig({
          campaigns: { poster: { scene: 'poster', expireSeconds: 600, tag: '一二三四五六七八九十十' } },
          conditionalMenus: {
            empty: { matchrule: {}, button: [...testMenu.button] },
            place: { matchrule: { province: '广东' } as never, button: [...testMenu.button] },
            phone: { matchrule: { client_platform_type: '4' as never }, button: [...testMenu.button] },
            extra: { matchrule: { tag: 'VIP' }, button: [{ type: 'click', name: 'X', key: 'NOANSWER' }] },
          },
        }),
      ),
    { instanceOf: ConfigError },
  );
  const paths = error!.issues.map((i) => i.path);
  t.true(paths.includes('campaigns.poster.tag'), paths.join(' '));
  t.true(paths.includes('conditionalMenus.empty.matchrule'));
  t.regex(
    error!.message,
    /conditionalMenus\.place\.matchrule\.province: WeChat no longer matches on sex, country, province, city or language/,
  );
  t.true(paths.includes('conditionalMenus.phone.matchrule.client_platform_type'));
  const noMenu = t.throws(
    () =>
      resolveConfig({
        conditionalMenus: { vip: { matchrule: { tag: 'VIP' }, button: [{ type: 'view', name: 'A', url: 'https://a.example' }] } },
      }),
    { instanceOf: ConfigError },
  );
  t.regex(noMenu!.message, /conditionalMenus: needs a menu/);
  const unanswered = t.throws(
    () =>
      resolveConfig(
        testConfig({ conditionalMenus: { vip: { matchrule: { tag: 'VIP' }, button: [{ type: 'click', name: 'X', key: 'NOANSWER' }] } } }),
      ),
    { instanceOf: ConfigError },
  );
  t.true(unanswered!.issues.some((i) => i.path === 'conditionalMenus.vip.button[0].key'));
});

test('two instances syncing at once add each conditional menu once: one applies them, the other finds them applied on its next pass', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const { openStore } = await import('../core/state/open-store.ts');
  const store = await openStore('memory://', { log: memoryLogger().log });
  t.teardown(() => store.close());
  const log = memoryLogger().log;
  const config = resolveConfig(
    testConfig({
      conditionalMenus: {
        vip: { matchrule: { tag: 'VIP' }, button: [...vipMenu.button] },
        android: { matchrule: { client_platform_type: '2' }, button: [{ type: 'click', name: '安卓', key: 'TODAY' }] },
      },
    }),
  );
  const passes = await Promise.all([syncOnce({ api, config }, store, log), syncOnce({ api, config }, store, log)]);
  t.is(passes.filter((p) => p.errors.some((e) => /another instance is applying them/.test(e))).length, 1);
  const next = await syncOnce({ api, config }, store, log);
  t.deepEqual(
    next.conditionalMenus.map((m) => m.action),
    ['unchanged', 'unchanged'],
  );
  t.is(emulator.count('menu/addconditional'), 2);
  // Both may ask for the tag; WeChat refuses the second name (45157), and there is one tag.
  t.is((await api.tags.list()).filter((tag) => tag.name === 'VIP').length, 1);
});

test('the tagger: -1 is tried again; a batch refused because one user left is tagged one by one; a tag deleted meanwhile is made again', async (t) => {
  const { emulator, api, log } = await startEmulator(t, { strict: true });
  const { CampaignTagger } = await import('../core/features/campaign-tags.ts');
  const tagger = new CampaignTagger({ api, log: log.log, flushMs: 10, retryMs: [10, 20] });
  const fans = ['oFan1', 'oFan2', 'oFan3', 'oFan4', 'oFan5'];
  for (const fan of fans) emulator.users.follow(fan);
  emulator.fail('tags/members/batchtagging', { errcode: -1 });
  for (const fan of [...fans.slice(0, 2), 'oNeverFollowed', ...fans.slice(2)]) tagger.add(fan, '春季海报');
  await tagger.close();
  const tagging = emulator.calls.filter((c) => c.api === 'tags/members/batchtagging').map((c) => c.errcode);
  t.deepEqual(tagging, [-1, 40003, 0, 0, 40003, 0, 0, 0], 'busy, refused as a whole, then one by one');
  const { id } = (await api.tags.list()).find((x) => x.name === '春季海报')!;
  const members: string[] = [];
  for await (const member of api.tags.members(id)) members.push(member);
  t.deepEqual(members.sort(), fans);
  t.true(
    log.lines().some((l) => /campaign tag: not applied .*40003/.test(String(l.msg))),
    'the one refused is logged',
  );

  await api.tags.delete(id); // staff deleted it in the console
  emulator.users.follow('oFan6');
  tagger.add('oFan6', '春季海报');
  await tagger.close();
  const again = (await api.tags.list()).find((x) => x.name === '春季海报')!;
  t.not(again.id, id);
  t.deepEqual(await api.tags.ofUser('oFan6'), [again.id]);
});

test('conditional menus in the emulator: WeChat refuses the retired rules (65320), and a follower with several tags is matched on the last one put on', async (t) => {
  const { emulator, api } = await startEmulator(t, { strict: true });
  await api.createMenu({ button: [{ type: 'click', name: '今日', key: 'TODAY' }] });
  await t.throwsAsync(api.addConditionalMenu({ button: [{ type: 'click', name: 'M', key: 'TODAY' }], matchrule: { sex: '1' } as never }), {
    message: /errcode 65320 .*use a tag/,
  });
  const [vip, spring] = [await api.tags.create('VIP'), await api.tags.create('春季')];
  await api.addConditionalMenu({ button: [{ type: 'click', name: 'VIP', key: 'TODAY' }], matchrule: { tag_id: String(vip.id) } });
  emulator.users.follow('oBoth');
  await api.tags.tag(vip.id, ['oBoth']);
  await api.tags.tag(spring.id, ['oBoth']);
  t.like(await api.tryMatchMenu('oBoth'), { button: [{ name: '今日' }] }, 'matched on 春季, the last tag, which has no menu');
});

test('a conditional menu found on the account exactly as configured (the store was lost) is taken over, not added twice, and left there when dropped from the config', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const { openStore } = await import('../core/state/open-store.ts');
  const log = memoryLogger().log;
  const config = resolveConfig(
    testConfig({ conditionalMenus: { ios: { matchrule: { client_platform_type: '1' }, button: [...vipMenu.button] } } }),
  );
  const first = await openStore('memory://', { log });
  t.teardown(() => first.close());
  await syncOnce({ api, config }, first, log);
  const lost = await openStore('memory://', { log }); // a new store: the bot no longer knows it added the menu
  t.teardown(() => lost.close());
  const again = await syncOnce({ api, config }, lost, log);
  t.deepEqual(again.conditionalMenus, [{ name: 'ios', action: 'unchanged' }]);
  t.is(emulator.count('menu/addconditional'), 1);
  const dropped = await syncOnce({ api, config: resolveConfig(testConfig()) }, lost, log);
  t.deepEqual(dropped.conditionalMenus, [{ name: 'ios', action: 'left' }]);
  t.is(emulator.menus.conditional.length, 1, 'a menu it did not add is not deleted');
});
