// What a push costs on Redis, counted as WeChat's push arrives: the commands the bot sends, seen
// by redis-cli MONITOR (a script's own calls inside Redis are not round trips). The design, as
// the README's Redis section writes it: a message or a click is two (the nonce and the dedupe
// claim in one script, before the chain; the reply recorded for retries, after it); a follow
// through a campaign adds its counters (one script) and the user's record (one script: merged
// unless the purge's tombstone stands, with no read before it).
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { openStore } from '../core/state/open-store.ts';
import {
  ACCOUNT,
  eventFields,
  memoryLogger,
  openid,
  pushXml,
  readReply,
  signedQuery,
  startEmulator,
  startServer,
  testConfig,
} from './_helpers.ts';
import { monitorRedis, redisTest, startRedis } from './_redis.ts';

redisTest(
  test,
  "Redis: a message or a click costs 2 commands; a follow through a campaign 4; a retry answered from this instance's memory 1",
  async (t) => {
    const redis = await startRedis(t);
    const store = await openStore(redis.url, { log: memoryLogger().log, namespace: 'wxbot:test' });
    t.teardown(() => store.close());
    const { api } = await startEmulator(t);
    const server = await startServer(t, { api, store });
    await server.sync!.firstPass;
    const monitor = await monitorRedis(t, redis);
    const user = openid();
    const cost = async (fields: Record<string, string | number>) => {
      await new Promise((r) => setTimeout(r, 100)); // whatever came before has landed
      monitor.reset();
      const response = await server.push(fields);
      t.not(await readReply(response), undefined);
      await new Promise((r) => setTimeout(r, 200)); // MONITOR's lines arrive on their own
      return monitor.commands().map((c) => c.split(' ')[0]!.replaceAll('"', ''));
    };
    const text = {
      ToUserName: ACCOUNT,
      FromUserName: user,
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'text',
      Content: 'hi',
      MsgId: '7001',
    };
    t.deepEqual(await cost(eventFields(user, 'subscribe', { EventKey: 'qrscene_poster' })), ['EVAL', 'EVAL', 'EVAL', 'SET']);
    t.deepEqual(await cost(text), ['EVAL', 'SET'], 'nonce and claim, reply');
    t.deepEqual(await cost(eventFields(user, 'CLICK', { EventKey: 'TODAY' })), ['EVAL', 'SET']);
    // WeChat's retry of the text, to the same instance: its reply is in memory, only its nonce is remembered.
    t.deepEqual(await cost({ ...text }), ['SET']);
  },
);

redisTest(
  test,
  'Redis: a signed URL replayed with another body is refused while its dedupe claim goes out with the nonce; no plugin past dedupe sees it, and its claim is released',
  async (t) => {
    const redis = await startRedis(t);
    const store = await openStore(redis.url, { log: memoryLogger().log, namespace: 'wxbot:test' });
    t.teardown(() => store.close());
    const reached: string[] = [];
    const spy = {
      name: 'spy',
      middleware: (ctx: { event: { from: string } }, next: () => Promise<void>) => (reached.push(ctx.event.from), next()),
    };
    const server = await startServer(t, { store, config: testConfig({ plugins: [spy as never] }) });
    const query = signedQuery();
    const send = (fields: Record<string, string | number>) =>
      fetch(`${server.url}?${query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: pushXml(fields) });
    const user = openid();
    t.like(await readReply(await send(eventFields(user, 'CLICK', { EventKey: 'TODAY' }))), { Content: 'today reply' });
    const forgedFields = eventFields(openid(), 'CLICK', { EventKey: 'TODAY' });
    const forged = await send(forgedFields);
    t.is(forged.status, 401);
    t.deepEqual(reached, [user], 'the forged push reached no plugin past dedupe');
    const dedupeKeys = spawnSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', '*dedupe:*'], { encoding: 'utf8' });
    t.is(dedupeKeys.stdout.trim().split('\n').length, 1, "only the genuine push's record: the forged push's claim is gone");
    // The same push, sent by WeChat with its own nonce, is handled: the forged one's claim was released.
    t.like(await readReply(await server.push(forgedFields)), { Content: 'today reply' });
    t.is(reached.length, 2);
    // A forgery in flight when the genuine push of its key arrives: the genuine one still runs.
    for (let i = 0; i < 10; i++) {
      const fields = eventFields(openid(), 'CLICK', { EventKey: 'TODAY' });
      const forgery = send(fields);
      await new Promise((resolve) => setImmediate(resolve));
      const genuine = server.push(fields);
      t.is((await forgery).status, 401);
      t.like(await readReply(await genuine), { Content: 'today reply' }, `round ${i}`);
    }
    t.is(reached.length, 12);
  },
);
