import test from 'ava';
import { event, makeBot, sqliteStore, testConfig } from './_helpers.ts';

test('a retry of a handled push gets the same reply and does not run the chain again', async (t) => {
  let runs = 0;
  const { bot } = await makeBot(t, { ...testConfig(), fallback: () => `reply #${++runs}` });
  const push = event('text', { text: 'hi', msgId: '9001' });
  const first = await bot.handle(push);
  const retry = await bot.handle({ ...push });
  t.like(first, { content: 'reply #1' });
  t.deepEqual(retry, first);
  t.is(runs, 1);
});

test('a retry arriving while the first is still running waits for its reply', async (t) => {
  let runs = 0;
  const { bot } = await makeBot(t, {
    ...testConfig(),
    fallback: async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return 'slow answer';
    },
  });
  const push = event('text', { text: 'hi', msgId: '9002' });
  const [a, b, c] = await Promise.all([bot.handle(push), bot.handle(push), bot.handle(push)]);
  t.is(runs, 1);
  t.like(a, { content: 'slow answer' });
  t.deepEqual(b, a);
  t.deepEqual(c, a);
});

test('two events from one user in the same second are both handled', async (t) => {
  const { bot } = await makeBot(t);
  const from = 'oSameSecond';
  const a = await bot.handle(event('click', { key: 'TODAY', from, createTime: 1700000500 }));
  const b = await bot.handle(event('subscribe', { from, createTime: 1700000500 }));
  t.like(a, { content: 'today reply' });
  t.like(b, { content: 'default welcome' });
});

test('a push with no reply is remembered too: its retry stays silent', async (t) => {
  let runs = 0;
  const { bot } = await makeBot(t, { ...testConfig(), plugins: [{ name: 'count', middleware: (_ctx, next) => (runs++, next()) }] });
  const push = event('view', { url: 'https://e.com/' });
  t.is(await bot.handle(push), undefined);
  t.is(await bot.handle(push), undefined);
  t.is(runs, 1);
});

test('the store holds neither the OpenID nor the envelope of a remembered reply', async (t) => {
  const { bot, store } = await makeBot(t, testConfig(), await sqliteStore(t));
  const push = event('click', { key: 'TODAY', from: 'oSecretOpenId1234567' });
  await bot.handle(push);
  // The record is found by the hash of the key only, and holds the bare reply.
  const { createHash } = await import('node:crypto');
  const { dedupeKeyOf } = await import('../core/protocol/events.ts');
  const key = `dedupe:${push.createTime}:${createHash('sha256').update(dedupeKeyOf(push)).digest('base64url')}`;
  const record = await store.get<{ reply: unknown }>(key);
  t.deepEqual(record, { reply: { type: 'text', content: 'today reply' } });
  t.false(JSON.stringify(record).includes('oSecretOpenId1234567'));
});

test('a retry after a restart is answered from the store', async (t) => {
  const first = await makeBot(t, testConfig(), await sqliteStore(t));
  const push = event('click', { key: 'TODAY' });
  await first.bot.handle(push);
  let runs = 0;
  const second = await makeBot(
    t,
    { ...testConfig(), plugins: [{ name: 'count', middleware: (_ctx, next) => (runs++, next()) }] },
    first.store,
  );
  t.like(await second.bot.handle(push), { content: 'today reply' });
  t.is(runs, 0);
});

test('with a memory store, dedupe memory is bounded: the store gets no dedupe records', async (t) => {
  const { bot, store } = await makeBot(t);
  const push = event('click', { key: 'TODAY' });
  await bot.handle(push);
  const { createHash } = await import('node:crypto');
  const { dedupeKeyOf } = await import('../core/protocol/events.ts');
  t.is(await store.get(`dedupe:${push.createTime}:${createHash('sha256').update(dedupeKeyOf(push)).digest('base64url')}`), undefined);
  t.like(await bot.handle(push), { content: 'today reply' }, 'the in-process LRU still answers the retry');
});
