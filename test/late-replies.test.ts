// The outbox of late replies: written to the store before it is sent, sent once by whichever
// instance gets to it, given up with a reason when WeChat refuses it or its time is past.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prometheusMetrics } from '../app/metrics.ts';
import { LateReplies } from '../core/features/late-reply.ts';
import { createContext } from '../core/kernel/context.ts';
import { openStore } from '../core/state/open-store.ts';
import { Users } from '../core/state/users.ts';
import {
  APPID,
  event,
  eventFields,
  memoryLogger,
  openid,
  readReply,
  runApp,
  signedQuery,
  startEmulator,
  startServer,
  testConfig,
  TOKEN,
} from './_helpers.ts';

const until = async (done: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await done()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 25));
};
const sentOk = (emulator: { calls: { api: string; errcode: number }[] }) =>
  emulator.calls.filter((c) => c.api === 'message/custom/send' && c.errcode === 0).length;

async function outbox(t: Parameters<typeof startEmulator>[0], options: { lifetimeMs?: number } = {}) {
  const wechat = await startEmulator(t);
  const prometheus = prometheusMetrics();
  const log = memoryLogger();
  const users = new Users(wechat.store);
  const late = new LateReplies({
    api: wechat.api,
    store: wechat.store,
    users,
    log: log.log,
    metrics: prometheus.metrics,
    retryMs: [50],
    ...options,
  });
  t.teardown(() => late.close());
  const ctxOf = (from: string) =>
    createContext(event('text', { from, text: 'hi', createTime: Math.floor(Date.now() / 1000) }), log.log, users);
  const counted = async (outcome: string) =>
    Number(
      new RegExp(`^wechat_late_replies_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(await (await prometheus.text()).text)?.[1] ?? 0,
    );
  return { ...wechat, late, log, users, ctxOf, counted };
}

test('WeChat busy, then back: the late reply is retried and sent once', async (t) => {
  const { emulator, late, ctxOf, counted } = await outbox(t);
  emulator.fail('message/custom/send', { errcode: -1, times: 6 }); // the client's own retries take 4, the outbox's next 2
  const user = openid();
  await late.send(ctxOf(user), { type: 'text', content: 'late but sure' });
  await until(async () => (await counted('sent')) === 1); // counted once the client has WeChat's answer
  t.is(sentOk(emulator), 1);
  t.deepEqual(emulator.customMessages, [{ touser: user, msgtype: 'text', text: { content: 'late but sure' } }]);
  t.true((await counted('retry')) >= 1);
});

for (const [errcode, why] of [
  [45015, 'the 48 hours have passed'],
  [45047, 'too many customer-service messages'],
] as const) {
  test(`errcode ${errcode} (${why}): given up at once, with the reason logged, and not kept`, async (t) => {
    const { emulator, late, ctxOf, counted, log, store } = await outbox(t);
    emulator.fail('message/custom/send', { errcode, times: 5 });
    await late.send(ctxOf(openid()), { type: 'text', content: 'never' });
    t.is(emulator.count('message/custom/send'), 1, 'not tried again');
    t.regex(log.text(), new RegExp(`late reply given up: .*${errcode}`));
    t.is(await counted('given_up'), 1);
    t.is(await store.get('late:item:1'), undefined, 'out of the outbox');
  });
}

test('a late reply whose lifetime is past when it can be tried again is given up', async (t) => {
  const { emulator, late, ctxOf, counted, log } = await outbox(t, { lifetimeMs: 30 });
  emulator.fail('message/custom/send', { errcode: -1, times: 100 });
  await late.send(ctxOf(openid()), { type: 'text', content: 'too late' });
  await until(() => /given up: not sent within/.test(log.text()));
  t.is(await counted('given_up'), 1);
  t.is(sentOk(emulator), 0);
});

test('a user who unsubscribes before the retry is not written to, and the outbox keeps nothing of theirs', async (t) => {
  const { emulator, late, ctxOf, users, store } = await outbox(t);
  emulator.fail('message/custom/send', { errcode: -1, times: 4 });
  const user = openid();
  await late.send(ctxOf(user), { type: 'text', content: 'for a follower only' });
  await users.delete(user); // the purge of unsubscribe
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(sentOk(emulator), 0);
  t.is(await store.get('late:item:1'), undefined);
});

test('an instance killed (kill -9) before its late reply could be sent: the next instances send it once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bot-outbox-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bot.sqlite');
  const store = await openStore(`sqlite://${file}`, { log: memoryLogger().log, namespace: `wxbot:${APPID}` });
  t.teardown(() => store.close());
  const wechat = await startEmulator(t, { store });
  // WeChat busy for the first instance's attempt (the client tries four times), then fine.
  wechat.emulator.fail('message/custom/send', { errcode: -1, times: 4 });
  writeFileSync(
    join(dir, 'bot.config.ts'),
    `export default { plugins: [{ name: 'slow', async middleware(ctx, next) {
      if (ctx.event.type !== 'text') return next();
      await new Promise((resolve) => setTimeout(resolve, 300));
      ctx.reply('after the deadline');
    } }] };\n`,
  );
  const a = runApp(
    t,
    {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      WECHAT_APPID: APPID,
      WECHAT_SECRET: 'test-secret',
      WECHAT_TOKEN: TOKEN,
      WECHAT_API_BASE: wechat.url,
      BOT_STORE: `sqlite://${file}`,
      BOT_CONFIG: join(dir, 'bot.config.ts'),
      BOT_DEADLINE_MS: '100',
    },
    { cwd: dir }, // its own folder: no .env or config of the repository's reaches it
  );
  const url = (await a.until(/listening on http:\/\/localhost:(\d+)\/wechat/))[1]!;
  const user = openid();
  const body = `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[${user}]]></FromUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>5001</MsgId></xml>`;
  const answer = await fetch(`http://127.0.0.1:${url}/wechat?${signedQuery()}`, { method: 'POST', body });
  t.is(await readReply(answer), 'success', 'answered at the deadline');
  await a.until(/late reply not sent yet: will retry/);
  a.child.kill('SIGKILL');
  await a.exited;
  t.is(sentOk(wechat.emulator), 0);

  // Two instances start on the same file; the entry is due in a few seconds.
  const config = testConfig();
  await Promise.all([
    startServer(t, { store, api: wechat.makeApi(), config, lateHook: false }),
    startServer(t, { store, api: wechat.makeApi(), config, lateHook: false }),
  ]);
  await until(() => sentOk(wechat.emulator) > 0, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // time for a second sending, if there were one
  t.is(sentOk(wechat.emulator), 1, 'sent once');
  t.deepEqual(wechat.emulator.customMessages, [{ touser: user, msgtype: 'text', text: { content: 'after the deadline' } }]);
});
