import test, { type ExecutionContext } from 'ava';
import { type Store } from '../core/state/store.ts';
import { openStore } from '../core/state/open-store.ts';
import {
  burst,
  eventFields,
  memoryLogger,
  openid,
  readReply,
  startEmulator,
  startServer,
  testConfig,
  withinOneMinute,
} from './_helpers.ts';
import { dumpRedis, redisTest, startRedis } from './_redis.ts';

const TOKEN = 'site-backend-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };

async function loginServer(t: ExecutionContext, options: { expireSeconds?: number; store?: Store; ratePerMinute?: number } = {}) {
  const { api, emulator } = await startEmulator(t, options.store ? { store: options.store } : {});
  const config = {
    ...testConfig(),
    login: {
      reply: '你已登录 example.com',
      ...(options.expireSeconds ? { expireSeconds: options.expireSeconds } : {}),
      ...(options.ratePerMinute ? { ratePerMinute: options.ratePerMinute } : {}),
    },
  };
  const server = await startServer(t, { api, config, apiToken: TOKEN, ...(options.store ? { store: options.store } : {}) });
  const base = server.url.replace(/\/wechat$/, '');
  const create = async () =>
    (await (await fetch(`${base}/api/login`, { method: 'POST', headers: auth })).json()) as {
      scene: string;
      url: string;
      qrPng: string;
      qrSvg: string;
      expiresAt: number;
    };
  const poll = async (scene: string, wait = 0) => {
    const response = await fetch(`${base}/api/login/${scene}?wait=${wait}`, { headers: auth });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { server, base, emulator, create, poll };
}

test('a new user following through a login code resolves the waiting long-poll', async (t) => {
  const { server, emulator, create, poll } = await loginServer(t);
  const code = await create();
  t.regex(code.scene, /^d_[A-Za-z0-9_-]{24}$/, '144 random bits');
  t.regex(code.qrPng, /^data:image\/png;base64,/);
  t.regex(code.qrSvg, /^<svg/);
  t.like(
    [...emulator.qrcodes.values()].find((c) => c.scene === code.scene),
    { actionName: 'QR_STR_SCENE', expireSeconds: 300 },
  );
  const waiting = poll(code.scene, 10);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const user = openid();
  const reply = await readReply(await server.push(eventFields(user, 'subscribe', { EventKey: `qrscene_${code.scene}`, Ticket: 'TK' })));
  t.like(reply, { Content: '你已登录 example.com' });
  t.deepEqual(await waiting, { status: 200, body: { status: 'scanned', openid: user, newFollower: true } });
});

test('a follower scanning a login code logs in as a follower', async (t) => {
  const { server, create, poll } = await loginServer(t);
  const code = await create();
  t.deepEqual((await poll(code.scene)).body, { status: 'pending' });
  const user = openid();
  await server.push(eventFields(user, 'SCAN', { EventKey: code.scene, Ticket: 'TK' }));
  t.deepEqual((await poll(code.scene, 5)).body, { status: 'scanned', openid: user, newFollower: false });
});

test('a code is consumed by its first scan, and a result by its first read', async (t) => {
  const { server, create, poll } = await loginServer(t);
  const code = await create();
  const first = openid();
  await server.push(eventFields(first, 'SCAN', { EventKey: code.scene }));
  const second = await readReply(await server.push(eventFields(openid(), 'SCAN', { EventKey: code.scene })));
  t.regex(String((second as { Content?: string }).Content), /已被使用/);
  t.deepEqual((await poll(code.scene)).body, { status: 'scanned', openid: first, newFollower: false });
  t.deepEqual((await poll(code.scene)).body, { status: 'expired' }, 'a second read logs no one in');
  await server.push(eventFields(openid(), 'SCAN', { EventKey: code.scene }));
  t.deepEqual((await poll(code.scene)).body, { status: 'expired' });
});

test('the scanner scanning again is told they are logged in, and nothing changes', async (t) => {
  const { server, create, poll } = await loginServer(t);
  const code = await create();
  const user = openid();
  await server.push(eventFields(user, 'SCAN', { EventKey: code.scene }));
  t.like(await readReply(await server.push(eventFields(user, 'SCAN', { EventKey: code.scene }))), { Content: '你已登录 example.com' });
  t.deepEqual((await poll(code.scene)).body, { status: 'scanned', openid: user, newFollower: false });
});

test('an expired code answers expired; a guessed scene finds nothing', async (t) => {
  const { create, poll } = await loginServer(t, { expireSeconds: 1 });
  const code = await create();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.deepEqual((await poll(code.scene)).body, { status: 'expired' });
  t.is((await poll('d_AAAAAAAAAAAAAAAAAAAAAAAA')).status, 404);
  t.is((await poll('poster')).status, 404, 'a campaign scene is not a login');
});

test('no BOT_API_TOKEN: the routes do not exist; a wrong token is refused', async (t) => {
  const { api } = await startEmulator(t);
  const closed = await startServer(t, { api });
  t.is((await fetch(closed.url.replace(/\/wechat$/, '/api/login'), { method: 'POST', headers: auth })).status, 404);
  const { base } = await loginServer(t);
  t.is((await fetch(`${base}/api/login`, { method: 'POST' })).status, 401);
  t.is((await fetch(`${base}/api/login`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status, 401);
});

test('guessing BOT_API_TOKEN: after 10 wrong tokens in a minute, counted across instances sharing the store, every request from that address gets 429', async (t) => {
  const store = await openStore('memory://', { log: memoryLogger().log });
  t.teardown(() => store.close());
  const a = await loginServer(t, { store });
  const b = await loginServer(t, { store });
  const call = (base: string, token: string) =>
    fetch(`${base}/api/login`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await withinOneMinute();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await call(i % 2 ? a.base : b.base, `guess-${i}`)).status);
  t.deepEqual(statuses, Array(10).fill(401));
  const locked = await call(a.base, 'guess-10');
  t.is(locked.status, 429);
  t.regex(locked.headers.get('retry-after') ?? '', /^\d+$/);
  t.is((await call(b.base, TOKEN)).status, 429, 'the right token during the lockout is refused too');
});

redisTest(
  test,
  'guessing BOT_API_TOKEN in a burst sent at once over Redis: ten wrong tokens are checked, every other is 429',
  async (t) => {
    const redis = await startRedis(t);
    const store = await openStore(redis.url, { log: memoryLogger().log, namespace: 'wxbot:test' });
    t.teardown(() => store.close());
    const { base } = await loginServer(t, { store });
    // The whole burst in one minute's window: 200 connections may take seconds on a loaded machine.
    await withinOneMinute(20_000);
    const statuses = await burst(
      `${base}/api/login`,
      Array.from({ length: 200 }, (_, i) => ({ method: 'POST', headers: { authorization: `Bearer guess-${i}` } })),
    );
    t.is(statuses.filter((s) => s === 401).length, 10);
    t.is(statuses.filter((s) => s === 429).length, 190);
    t.is((await fetch(`${base}/api/login`, { method: 'POST', headers: auth })).status, 429, 'the right token after the burst too');
  },
);

test('creating codes is rate limited per client', async (t) => {
  const { base } = await loginServer(t, { ratePerMinute: 30 });
  await withinOneMinute(); // the 32 requests must all count in one minute's window
  const statuses = [];
  for (let i = 0; i < 32; i++) statuses.push((await fetch(`${base}/api/login`, { method: 'POST', headers: auth })).status);
  t.deepEqual(statuses.slice(0, 30), Array(30).fill(200));
  t.deepEqual(statuses.slice(30), [429, 429]);
});

test('unsubscribe removes the login result of the user', async (t) => {
  const { server, create } = await loginServer(t);
  const code = await create();
  const user = openid();
  await server.push(eventFields(user, 'SCAN', { EventKey: code.scene }));
  t.truthy(await server.store.get(`login:result:${code.scene}`));
  await server.push(eventFields(user, 'unsubscribe', { EventKey: '' }));
  t.is(await server.store.get(`login:result:${code.scene}`), undefined);
});

redisTest(test, 'over Redis, the scan lands on one instance and the long-poll on another', async (t) => {
  const redis = await startRedis(t);
  const stores = await Promise.all([1, 2].map(() => openStore(redis.url, { log: memoryLogger().log, namespace: 'wxbot:test' })));
  t.teardown(() => Promise.all(stores.map((s) => s.close())));
  const a = await loginServer(t, { store: stores[0] });
  const b = await loginServer(t, { store: stores[1] });
  const code = await a.create();
  const waiting = b.poll(code.scene, 10);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const user = openid();
  await a.server.push(eventFields(user, 'subscribe', { EventKey: `qrscene_${code.scene}` }));
  t.deepEqual((await waiting).body, { status: 'scanned', openid: user, newFollower: true });
  await a.server.push(eventFields(user, 'unsubscribe', { EventKey: '' }));
  t.false((await dumpRedis(redis.url)).includes(user));
});

test('emulator mode serves the demo login page, which logs in when the code is scanned', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const server = await startServer(t, { api, emulator });
  const base = server.url.replace(/\/wechat$/, '');
  const page = await fetch(`${base}/demo/login`);
  t.is(page.status, 200);
  t.regex(await page.text(), /关注公众号登录/);
  const code = (await (await fetch(`${base}/demo/api/login`, { method: 'POST' })).json()) as { scene: string };
  const user = openid();
  await server.push(eventFields(user, 'SCAN', { EventKey: code.scene }));
  t.like(await (await fetch(`${base}/demo/api/login/${code.scene}?wait=2`)).json(), { status: 'scanned', openid: user });
  const real = await startServer(t, { api });
  t.is((await fetch(real.url.replace(/\/wechat$/, '/demo/login'))).status, 404, 'never against a real account');
});
