// Two bot instances on one Redis behave as one.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotServices, Plugin } from '../core/config/bot-config.ts';
import { openStore } from '../core/state/open-store.ts';
import { Users } from '../core/state/users.ts';
import { campaignStats } from '../plugins/scene-campaign.ts';
import { WechatApi } from '../core/api/client.ts';
import {
  ACCOUNT,
  APPID,
  eventFields,
  memoryLogger,
  openid,
  pushXml,
  readReply,
  runApp,
  signedQuery,
  startEmulator,
  startServer,
  testConfig,
  TOKEN,
  WECHAT_WAITS_MS,
} from './_helpers.ts';
import { dumpRedis, redisTest, startRedis } from './_redis.ts';

async function twoInstances(t: ExecutionContext, config = testConfig()) {
  const redis = await startRedis(t);
  const open = async () => {
    const store = await openStore(redis.url, { log: memoryLogger().log, namespace: 'wxbot:test' });
    t.teardown(() => store.close());
    return store;
  };
  const a = await startServer(t, { store: await open(), config });
  const b = await startServer(t, { store: await open(), config });
  return { redis, a, b };
}

redisTest(test, 'the same push sent to both instances at once runs once, and both answers are the reply', async (t) => {
  let runs = 0;
  const { a, b } = await twoInstances(t, {
    ...testConfig(),
    fallback: async () => (runs++, await new Promise((r) => setTimeout(r, 100)), `answer ${runs}`),
  });
  for (let i = 0; i < 5; i++) {
    const fields = {
      ToUserName: ACCOUNT,
      FromUserName: openid(),
      CreateTime: 1700000000 + i,
      MsgType: 'text',
      Content: 'hi',
      MsgId: `88000${i}`,
    };
    const replies = await Promise.all([a.push(fields), b.push(fields)].map(async (r) => readReply(await r)));
    t.like(replies[0], { MsgType: 'text', Content: `answer ${i + 1}` });
    t.deepEqual(replies[1], { ...(replies[0] as object), CreateTime: (replies[1] as { CreateTime: string }).CreateTime });
  }
  t.is(runs, 5);
});

redisTest(test, 'retries spread across instances replay the first reply', async (t) => {
  let runs = 0;
  const { a, b } = await twoInstances(t, { ...testConfig(), fallback: () => `answer ${++runs}` });
  const fields = { ToUserName: ACCOUNT, FromUserName: openid(), CreateTime: 1700000100, MsgType: 'text', Content: 'hi', MsgId: '99001' };
  const contents = [];
  for (const instance of [a, b, a, b]) contents.push(((await readReply(await instance.push(fields))) as { Content: string }).Content);
  t.deepEqual(contents, ['answer 1', 'answer 1', 'answer 1', 'answer 1']);
  t.is(runs, 1);
});

redisTest(test, '1,000 concurrent follows through one campaign across both instances count exactly', async (t) => {
  const { a, b } = await twoInstances(t);
  const responses = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      (i % 2 ? a : b).push(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster', Ticket: 'TK' })),
    ),
  );
  t.true(responses.every((r) => r.status === 200));
  t.deepEqual(await campaignStats(a.store, 'poster'), { scans: 1000, follows: 1000, unfollows: 0 });
});

redisTest(test, 'after unsubscribe, Redis holds no key or value containing the OpenID', async (t) => {
  const { redis, a, b } = await twoInstances(t, {
    ...testConfig(),
    plugins: [
      {
        name: 'crm',
        middleware: async (ctx, next) => (ctx.event.type !== 'unsubscribe' && (await ctx.user.update({ openid: ctx.event.from })), next()),
      },
    ],
  });
  const user = 'oRedisPurgeCheck0123456789';
  await a.push(eventFields(user, 'subscribe', { EventKey: 'qrscene_poster' }));
  await b.push(eventFields(user, 'CLICK', { EventKey: 'TODAY' }));
  await a.push(eventFields(user, 'text', { MsgType: 'text', Content: 'hello', MsgId: '12345' }));
  t.true((await dumpRedis(redis.url)).includes(user), 'the check sees the OpenID while the user follows');
  await b.push(eventFields(user, 'unsubscribe', { EventKey: '' }));
  const dump = await dumpRedis(redis.url);
  t.false(dump.includes(user));
  t.regex(dump, /campaign:poster:unfollows=\{"value":1\}/, 'the anonymous counter stays');
});

redisTest(test, 'two instances linking keys to one user at once keep every link, so the purge deletes every key', async (t) => {
  const redis = await startRedis(t);
  const [one, two] = await Promise.all([1, 2].map(() => openStore(redis.url, { log: memoryLogger().log })));
  t.teardown(() => Promise.all([one!.close(), two!.close()]));
  const [a, b] = [new Users(one!), new Users(two!)];
  const user = 'oRedisLinkRace0123456789';
  const keys = Array.from({ length: 20 }, (_, i) => `login:${i}`);
  await Promise.all(keys.map((key) => one!.set(key, { openid: user })));
  await Promise.all([...keys.map((key, i) => (i % 2 ? a : b).link(user, key)), a.update(user, { campaign: 'poster' })]);
  const record = await a.get(user);
  t.deepEqual([...(record?.links ?? [])].sort(), [...keys].sort(), 'no link lost');
  t.is(record?.campaign, 'poster', 'nor the field written meanwhile');
  await b.delete(user);
  t.false((await dumpRedis(redis.url)).includes(user));
});

redisTest(test, 'a burst of API calls on both instances fetches the token once', async (t) => {
  const redis = await startRedis(t);
  const stores = await Promise.all([1, 2].map(() => openStore(redis.url, { log: memoryLogger().log, namespace: 'wxbot:test' })));
  t.teardown(() => Promise.all(stores.map((s) => s.close())));
  const { emulator, url } = await startEmulator(t, { store: stores[0] });
  const [a, b] = stores.map((store) => new WechatApi({ appId: APPID, secret: 'test-secret', base: url, store, log: memoryLogger().log }));
  await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a! : b!).userInfo(`o${i}`)));
  t.is(emulator.count('stable_token'), 1);
  t.is(emulator.count('user/info'), 50);
});

redisTest(test, 'killing Redis mid-run keeps the callback answering; service resumes when Redis returns', async (t) => {
  let runs = 0;
  const { redis, a } = await twoInstances(t, {
    ...testConfig(),
    plugins: [{ name: 'count', middleware: (_ctx, next) => (runs++, next()) }],
  });
  t.like(await readReply(await a.push(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster' }))), { Content: 'poster welcome' });
  await redis.kill();
  const started = Date.now();
  t.like(await readReply(await a.push(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster' }))), { Content: 'poster welcome' });
  t.like(await readReply(await a.push(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }))), { Content: 'today reply' });
  t.true(Date.now() - started < 3000, 'answered quickly, not after store time-outs');
  t.regex(a.log.text(), /STORE UNAVAILABLE/);
  // Even without Redis, a retry reaching this instance is not run twice.
  const retried = eventFields(openid(), 'CLICK', { EventKey: 'TODAY' });
  await a.push(retried);
  const before = runs;
  await a.push(retried);
  t.is(runs, before);

  await redis.restart();
  let stats = { scans: 0, follows: 0, unfollows: 0 };
  for (let i = 0; i < 50 && stats.follows === 0; i++) {
    await a.push(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster' }));
    stats = await campaignStats(a.store, 'poster').catch(() => stats);
    if (stats.follows === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.true(stats.follows >= 1, 'counting again after Redis returned');
});

redisTest(
  test,
  'an instance killed (kill -9) while it runs a push: the retry on the other instance runs the chain once, in its window, and later retries get its reply',
  async (t) => {
    const redis = await startRedis(t);
    const dir = mkdtempSync(join(tmpdir(), 'bot-kill-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // The chain takes a second; it says when it starts, and counts in the store when it ends.
    const plugin = `{
    name: 'slow',
    init(services) { this.store = services.store; },
    async middleware(ctx, next) {
      if (ctx.event.type !== 'text') return next();
      ctx.log.info('slow chain started');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await this.store.increment('slow-chains-finished');
      ctx.reply('done after a second');
    },
  }`;
    writeFileSync(join(dir, 'bot.config.ts'), `export default { plugins: [${plugin}] };\n`);
    const prefix = 'wxbot:kill';
    const a = runApp(
      t,
      {
        ...process.env,
        PORT: '0',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        BOT_STORE: redis.url,
        BOT_STORE_PREFIX: prefix,
        BOT_CONFIG: join(dir, 'bot.config.ts'),
        WECHAT_TOKEN: TOKEN,
      },
      { cwd: dir }, // its own folder: no .env or config of the repository's reaches it
    );
    const aUrl = (await a.until(/listening on (http:\/\/127\.0\.0\.1:\d+\/wechat)/))[1]!;
    const store = await openStore(redis.url, { log: memoryLogger().log, namespace: prefix });
    t.teardown(() => store.close());
    const { default: config } = await import(join(dir, 'bot.config.ts'));
    const b = await startServer(t, { store, config: { ...testConfig(), ...config } });

    const push = pushXml({
      ToUserName: ACCOUNT,
      FromUserName: openid(),
      CreateTime: 1700000100,
      MsgType: 'text',
      Content: 'hi',
      MsgId: '99001',
    });
    const first = fetch(`${aUrl}?${signedQuery()}`, { method: 'POST', body: push }).catch(() => 'cut');
    await a.until(/slow chain started/);
    a.child.kill('SIGKILL');
    t.is(await first, 'cut', 'the first delivery got no answer: WeChat will retry');

    const sent = Date.now();
    const retry = await readReply(await b.push(push));
    t.true(Date.now() - sent < WECHAT_WAITS_MS, "answered within WeChat's 5 s");
    t.like(retry, { MsgType: 'text', Content: 'done after a second' });
    t.like(await readReply(await b.push(push)), { Content: 'done after a second' }, 'the next retry gets the same reply');
    t.is(await store.get('slow-chains-finished'), 1, 'the chain ran to its end once');
  },
);

redisTest(
  test,
  "the purge is final: an unsubscribe on one instance, racing a chain on the other that updates the user's record and links a login, leaves nothing; a new follow writes again at once",
  async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let raced!: Promise<void>;
    let finished!: () => void;
    raced = new Promise<void>((resolve) => (finished = resolve));
    let users: BotServices['users'] | undefined;
    let store: BotServices['store'] | undefined;
    // On A: a text push's chain reads the record, waits while B purges the user, then writes.
    const racer: Plugin = {
      name: 'racer',
      init(services) {
        users ??= services.users;
        store ??= services.store;
      },
      async middleware(ctx, next) {
        if (ctx.event.type !== 'text') return next();
        await ctx.user.get();
        await gate;
        await ctx.user.update({ phone: '13800000000' });
        await store!.set('racer:login-result', { openid: ctx.event.from }, 60_000);
        await users!.link(ctx.event.from, 'racer:login-result');
        ctx.reply('written');
        finished();
      },
    };
    const { redis, a, b } = await twoInstances(t, { ...testConfig(), plugins: [racer] });
    const from = openid();
    t.like(await readReply(await a.push(eventFields(from, 'subscribe', { EventKey: 'qrscene_poster', Ticket: 'T' }))), {
      Content: 'poster welcome',
    });
    const text = a.push({
      ToUserName: ACCOUNT,
      FromUserName: from,
      CreateTime: 1700000200,
      MsgType: 'text',
      Content: 'hi',
      MsgId: '99101',
    });
    t.is((await b.push(eventFields(from, 'unsubscribe'))).status, 200);
    release();
    await raced;
    t.like(await readReply(await text), { Content: 'written' });
    const dump = await dumpRedis(redis.url);
    t.false(dump.includes(from), 'no OpenID in Redis');
    t.false(dump.includes('13800000000'), 'the late write did not land');
    t.false(dump.includes('racer:login-result'), 'nor the linked key');
    t.is(await a.store.get(users!.keyOf(from)), undefined, 'no record');

    // Following again, at once: the new follow's record is written.
    await b.push(eventFields(from, 'subscribe', { EventKey: 'qrscene_poster', Ticket: 'T' }));
    t.like(await users!.get(from), { campaign: 'poster' });
  },
);
