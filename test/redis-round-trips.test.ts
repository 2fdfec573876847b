// What a push costs on Redis, counted as WeChat's push arrives: the commands the bot sends, seen
// by redis-cli MONITOR (a script's own calls inside Redis are not round trips). The design, as
// the README's Redis section writes it: a message or a click is three (the nonce, the dedupe
// claim, the reply recorded for retries); a follow through a campaign adds its counters and the
// user's record (read, then written unless the purge's tombstone stands).
import test from 'ava';
import { openStore } from '../core/state/open-store.ts';
import { ACCOUNT, eventFields, memoryLogger, openid, readReply, startEmulator, startServer } from './_helpers.ts';
import { monitorRedis, redisTest, startRedis } from './_redis.ts';

redisTest(
  test,
  "Redis: a message or a click costs 3 commands; a follow through a campaign 6; a retry answered from this instance's memory 1",
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
    t.deepEqual(await cost(eventFields(user, 'subscribe', { EventKey: 'qrscene_poster' })), ['SET', 'SET', 'EVAL', 'GET', 'EVAL', 'SET']);
    t.deepEqual(await cost(text), ['SET', 'SET', 'SET'], 'nonce, claim, reply');
    t.deepEqual(await cost(eventFields(user, 'CLICK', { EventKey: 'TODAY' })), ['SET', 'SET', 'SET']);
    // WeChat's retry of the text, to the same instance: its reply is in memory, only its nonce is remembered.
    t.deepEqual(await cost({ ...text }), ['SET']);
  },
);
