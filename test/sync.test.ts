import test from 'ava';
import { resolveConfig } from '../core/config/bot-config.ts';
import { qrRecordKey, type QrRecord } from '../core/api/qr-records.ts';
import { LAST_SYNC_KEY, sameMenu, syncOnce, type SyncReport } from '../plugins/sync.ts';
import { eventFields, memoryLogger, openid, readReply, sqliteStore, startEmulator, startServer, testConfig, testMenu } from './_helpers.ts';

test('first start creates the menu and every campaign code; a restart with the same config writes nothing', async (t) => {
  const store = await sqliteStore(t);
  const { emulator, api } = await startEmulator(t, { store });
  const first = await startServer(t, { api, store });
  t.like(await first.sync!.firstPass, { menu: 'created', errors: [] });
  t.is(emulator.count('menu/create'), 1);
  t.is(emulator.count('qrcode/create'), 2);
  await first.bot.close();

  const second = await startServer(t, { api, store });
  const report = await second.sync!.firstPass;
  t.is(report.menu, 'unchanged');
  t.deepEqual(
    report.campaigns.map((c) => c.action),
    ['kept', 'kept'],
  );
  t.is(emulator.count('menu/create'), 1, 'no menu write on restart');
  t.is(emulator.count('qrcode/create'), 2, 'no code created on restart');
  t.is(emulator.permanentCount, 1);
});

test('a changed menu is created again', async (t) => {
  const store = await sqliteStore(t);
  const { emulator, api } = await startEmulator(t, { store });
  await (
    await startServer(t, { api, store })
  ).sync!.firstPass;
  const changed = { button: [...testMenu.button, { type: 'click', name: '新', key: 'NEW' }] } as const;
  const config = { ...testConfig(), menu: changed, clicks: { TODAY: 'a', SLOW: 'b', NEW: 'c' } };
  t.like(await (await startServer(t, { api, store, config })).sync!.firstPass, { menu: 'created' });
  t.is(emulator.count('menu/create'), 2);
  t.like(emulator.menu?.button[2], { key: 'NEW' });
});

test('a permanent code is never created twice, even when its campaign is renamed', async (t) => {
  const store = await sqliteStore(t);
  const { emulator, api } = await startEmulator(t, { store });
  const config = (name: string) => resolveConfig({ campaigns: { [name]: { scene: 42, permanent: true } } });
  const log = memoryLogger().log;
  await syncOnce({ api, config: config('door') }, store, log);
  await syncOnce({ api, config: config('door') }, store, log);
  await syncOnce({ api, config: config('frontDoor') }, store, log);
  t.is(emulator.permanentCount, 1);
});

test('a temporary code is renewed when its end is near, and kept before', async (t) => {
  const { emulator, api, store } = await startEmulator(t);
  const config = resolveConfig({ campaigns: { poster: { scene: 'poster', expireSeconds: 86_400 } } });
  const log = memoryLogger().log;
  t.like((await syncOnce({ api, config }, store, log)).campaigns[0], { action: 'created' });
  t.like((await syncOnce({ api, config }, store, log)).campaigns[0], { action: 'kept' });
  const key = qrRecordKey(config.campaigns.get('poster')!);
  const record = (await store.get<QrRecord>(key))!;
  await store.set(key, { ...record, expiresAt: Date.now() + 60_000 }); // one minute left of a day
  t.like((await syncOnce({ api, config }, store, log)).campaigns[0], { action: 'renewed' });
  t.is(emulator.count('qrcode/create'), 2);
});

test('a dry run reads but writes nothing', async (t) => {
  const { emulator, api, store } = await startEmulator(t);
  const report = await syncOnce({ api, config: resolveConfig(testConfig()) }, store, memoryLogger().log, { dryRun: true });
  t.is(report.menu, 'would create');
  t.deepEqual(
    report.campaigns.map((c) => c.action),
    ['would create', 'would create'],
  );
  t.is(emulator.count('menu/create') + emulator.count('qrcode/create'), 0);
  t.is(await store.get(LAST_SYNC_KEY), undefined);
});

test('sync failing keeps the callback answering, logs why, and retries until it succeeds', async (t) => {
  const { emulator, api } = await startEmulator(t);
  emulator.fail('menu/get', { errcode: 45009, times: 2 });
  emulator.fail('qrcode/create', { errcode: 40164, times: 1 });
  const server = await startServer(t, { api, sync: { retryMs: [50] } });
  const first: SyncReport = await server.sync!.firstPass;
  t.is(first.menu, 'failed');
  t.true(first.errors.some((e) => /40164.*whitelist/.test(e)));
  t.like(await readReply(await server.push(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }))), { Content: 'today reply' });
  for (let i = 0; i < 50 && emulator.count('menu/create') === 0; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(emulator.count('menu/create'), 1);
  t.is(emulator.qrcodes.size, 2);
  t.regex(server.log.text(), /sync: menu: menu\/get: errcode 45009/);
});

test('WeChat unreachable at start does not stop the callback route', async (t) => {
  const { makeApi } = await startEmulator(t);
  const server = await startServer(t, { api: makeApi({ base: 'http://127.0.0.1:9' }), sync: { retryMs: [60_000] } });
  t.like(await readReply(await server.push(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster' }))), {
    Content: 'poster welcome',
  });
  const report = await server.sync!.firstPass;
  t.is(report.menu, 'failed');
  t.regex(report.errors[0]!, /unreachable/);
});

test('menus compare as WeChat stores them', (t) => {
  const ours = { button: [{ type: 'click', name: 'a', key: 'A' }] } as const;
  t.true(sameMenu({ button: [{ key: 'A', name: 'a', type: 'click', sub_button: [] }], menuid: 3 }, ours));
  t.false(sameMenu({ button: [{ key: 'B', name: 'a', type: 'click', sub_button: [] }] }, ours));
  t.false(sameMenu(undefined, ours));
});

test('a late reply reaches the user through message/custom/send', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const config = {
    ...testConfig(),
    clicks: { TODAY: 'x', SLOW: async () => (await new Promise((r) => setTimeout(r, 300)), 'worth the wait') },
  };
  const server = await startServer(t, { api, config, deadlineMs: 100, lateHook: false });
  const user = openid();
  t.is(await readReply(await server.push(eventFields(user, 'CLICK', { EventKey: 'SLOW' }))), 'success');
  for (let i = 0; i < 400 && emulator.customMessages.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.deepEqual(emulator.customMessages, [{ touser: user, msgtype: 'text', text: { content: 'worth the wait' } }]);
});

test('a late reply that cannot be sent is logged, and WeChat never sees an error', async (t) => {
  const { emulator, api } = await startEmulator(t);
  emulator.fail('message/custom/send', { errcode: 45015 });
  const config = { ...testConfig(), clicks: { TODAY: 'x', SLOW: async () => (await new Promise((r) => setTimeout(r, 200)), 'late') } };
  const server = await startServer(t, { api, config, deadlineMs: 100, lateHook: false });
  const response = await server.push(eventFields(openid(), 'CLICK', { EventKey: 'SLOW' }));
  t.is(response.status, 200);
  await new Promise((r) => setTimeout(r, 400));
  t.regex(server.log.text(), /late reply given up: .*45015/);
});

test('two instances syncing at once create a permanent code once', async (t) => {
  const store = await sqliteStore(t);
  const { emulator, makeApi } = await startEmulator(t, { store });
  emulator.fail('qrcode/create', { delayMs: 150, times: 10 });
  const config = resolveConfig({ campaigns: { door: { scene: 77, permanent: true } } });
  const log = memoryLogger().log;
  const [a, b] = await Promise.all([syncOnce({ api: makeApi(), config }, store, log), syncOnce({ api: makeApi(), config }, store, log)]);
  t.is(emulator.permanentCount, 1);
  t.deepEqual([a.campaigns[0]!.action, b.campaigns[0]!.action].sort(), ['created', 'failed']);
  t.regex([...a.errors, ...b.errors].join(), /another instance holds the claim to create the permanent code of scene 77 \(since \d{4}-/);
});
