import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../core/state/open-store.ts';
import { Users } from '../core/state/users.ts';
import { event, makeBot, memoryLogger, testConfig } from './_helpers.ts';

test('unsubscribe deletes the user record, whatever plugins put in it', async (t) => {
  const { bot } = await makeBot(t, {
    ...testConfig(),
    plugins: [{ name: 'notes', middleware: async (ctx, next) => (await ctx.user.update({ phone: '13800000000' }), next()) }],
  });
  const from = 'oPurged';
  await bot.handle(event('subscribe', { from, scene: 'poster' }));
  t.like(await bot.users.get(from), { campaign: 'poster', phone: '13800000000' });
  await bot.handle(event('unsubscribe', { from }));
  t.is(await bot.users.get(from), undefined);
});

test('the purge happens even when a later plugin throws', async (t) => {
  const { bot } = await makeBot(t, {
    ...testConfig(),
    plugins: [{ name: 'broken', middleware: () => Promise.reject(new Error('boom')) }],
  });
  const from = 'oPurgedAnyway';
  await bot.handle(event('subscribe', { from }));
  await bot.users.update(from, { note: 'x' });
  await bot.handle(event('unsubscribe', { from }));
  t.is(await bot.users.get(from), undefined);
});

test('after unsubscribe, the SQLite files hold nothing containing the OpenID', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bot-purge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { log } = memoryLogger();
  const store = await openStore(`sqlite://${join(dir, 'bot.sqlite')}`, { log });
  const from = 'oSQLitePurgeCheck0123456789';
  const { bot } = await makeBot(
    t,
    {
      ...testConfig(),
      // An author plugin that stores the OpenID itself, in the user's record, where personal data belongs.
      plugins: [{ name: 'crm', middleware: async (ctx, next) => (await ctx.user.update({ openid: ctx.event.from }), next()) }],
    },
    store,
  );
  await bot.handle(event('subscribe', { from, scene: 'poster' }));
  await bot.handle(event('click', { from, key: 'TODAY' }));
  const before = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
  t.true(before.includes(from), 'the check can see the OpenID while the user follows');
  await bot.handle(event('unsubscribe', { from }));
  const running = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
  t.false(running.includes(from), 'nothing left while the bot runs, write-ahead log included');
  await store.close();
  const after = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
  t.false(after.includes(from));
  t.false(after.includes(Buffer.from(from).toString('base64').slice(0, 20)));
});

test('while a user follows, the SQLite files hold the OpenID nowhere: records are keyed by its hash', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bot-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore(`sqlite://${join(dir, 'bot.sqlite')}`, { log: memoryLogger().log });
  const from = 'oSQLiteKeyCheck0123456789ab';
  const { bot } = await makeBot(t, testConfig(), store);
  await bot.handle(event('subscribe', { from, scene: 'poster' }));
  t.like(await bot.users.get(from), { campaign: 'poster' });
  await store.close();
  const files = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');
  t.true(files.includes('poster'), 'the check sees the record');
  t.false(files.includes(from));
});

test('a link whose write fails deletes the key it would have linked: the purge could never find it', async (t) => {
  const store = await openStore('memory://', { log: memoryLogger().log });
  await store.set('login:1', { openid: 'oLinkFails' });
  const failing = { ...store, update: () => Promise.reject(new Error('store down')) };
  await t.throwsAsync(new Users(failing).link('oLinkFails', 'login:1'), { message: 'store down' });
  t.is(await store.get('login:1'), undefined);
});
