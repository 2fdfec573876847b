// What a signed URL taken from an access log is worth: a timestamp far from now is refused, a
// nonce signs one body only (across instances sharing the store), and WECHAT_MODE=safe refuses
// plaintext pushes.
import test from 'ava';
import { readSettings, SettingsError } from '../app/settings.ts';
import { sign } from '../core/protocol/signature.ts';
import {
  AES_KEY,
  eventFields,
  memoryLogger,
  openid,
  pushXml,
  readReply,
  sealPush,
  signedQuery,
  sqliteStore,
  startServer,
  testConfig,
  TOKEN,
} from './_helpers.ts';

/** A server whose chain records who reached it, and a POST that takes any query and body. */
async function spiedServer(t: Parameters<typeof startServer>[0], options: Parameters<typeof startServer>[1] = {}) {
  const reached: string[] = [];
  const server = await startServer(t, {
    ...options,
    config: { ...testConfig(), plugins: [{ name: 'spy', middleware: (ctx, next) => (reached.push(ctx.event.from), next()) }] },
  });
  const post = (query: URLSearchParams, body: string) =>
    fetch(`${server.url}?${query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  return { server, reached, post };
}

/** A query signed for a timestamp `offsetS` seconds from now. */
function signedAt(offsetS: number, nonce = String(Math.floor(Math.random() * 1e9))): URLSearchParams {
  const timestamp = String(Math.floor(Date.now() / 1000) + offsetS);
  return new URLSearchParams({ signature: sign(TOKEN, timestamp, nonce), timestamp, nonce, openid: 'o' });
}

const click = (user = openid()) => pushXml(eventFields(user, 'CLICK', { EventKey: 'TODAY' }));

test('a timestamp more than 5 minutes from now is refused, in the past or the future; within them it is answered', async (t) => {
  const { reached, post, server } = await spiedServer(t);
  // Whole seconds from the start of this one: +301 s is only 300.001 s ahead late in a second, and
  // a check a moment later finds it inside the window. +302 is past it by a second at least.
  for (const offset of [-301, 302, -3600, -86_400 * 365 * 9]) {
    const response = await post(signedAt(offset), click());
    t.is(response.status, 401, `${offset} s`);
    t.regex(await response.text(), /timestamp/);
  }
  t.deepEqual(reached, []);
  t.regex(server.log.text(), /"offsetS":-360[01],"hint":"if every push is refused so, check this machine's clock"/);
  for (const offset of [-290, 0, 290]) t.like(await readReply(await post(signedAt(offset), click())), { Content: 'today reply' });
  t.is(reached.length, 3);
});

test('a timestamp that is not a number is refused, and the URL check (GET) is bounded too', async (t) => {
  const { post, server } = await spiedServer(t);
  const nonce = '12345';
  for (const timestamp of ['', 'abc', '1e9', '-5']) {
    const query = new URLSearchParams({ signature: sign(TOKEN, timestamp, nonce), timestamp, nonce });
    t.is((await post(query, click())).status, 401, timestamp);
  }
  const old = signedAt(-3600);
  old.set('echostr', 'hello');
  t.is((await fetch(`${server.url}?${old}`)).status, 401);
  const fresh = signedAt(0);
  fresh.set('echostr', 'hello');
  t.is(await (await fetch(`${server.url}?${fresh}`)).text(), 'hello');
});

test('WECHAT_MAX_SKEW_S=0 turns the check off (for WeChat 2014 sample)', async (t) => {
  const { post } = await spiedServer(t, { maxSkewS: 0 });
  t.like(await readReply(await post(signedAt(-86_400 * 365 * 9), click())), { Content: 'today reply' });
});

test('a signed URL replayed with another body is refused; with the same body it is a retry, answered the same', async (t) => {
  const { reached, post } = await spiedServer(t);
  const query = signedAt(0);
  const user = openid();
  const genuine = click(user);
  t.like(await readReply(await post(query, genuine)), { Content: 'today reply' });
  // WeChat's own retry: the same query and the same body.
  t.like(await readReply(await post(query, genuine)), { Content: 'today reply' });
  // Someone who read the URL in a proxy's log forges a push with it.
  const forged = await post(query, pushXml(eventFields(openid(), 'SCAN', { EventKey: 'poster', Ticket: 'TK' })));
  t.is(forged.status, 401);
  t.regex(await forged.text(), /nonce/);
  t.deepEqual(reached, [user]);
});

test('the nonce is remembered in the store: another instance sharing it refuses the replay', async (t) => {
  const store = await sqliteStore(t);
  const a = await spiedServer(t, { store });
  const b = await spiedServer(t, { store });
  const query = signedAt(0);
  t.like(await readReply(await a.post(query, click())), { Content: 'today reply' });
  t.is((await b.post(query, click())).status, 401);
  t.is(b.reached.length, 0);
});

test('safe mode: the nonce binds the encrypted body too', async (t) => {
  const { reached, post } = await spiedServer(t, { aes: true });
  const sealed = sealPush(click());
  t.like(await readReply(await post(sealed.query, sealed.body)), { Content: 'today reply' });
  const other = sealPush(click());
  // The other push re-signed with the first one's timestamp and nonce, as a token holder could:
  // without the token this is out of reach, but the guard must hold on its own.
  const query = new URLSearchParams(sealed.query);
  const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]>/.exec(other.body)![1]!;
  query.set('msg_signature', sign(TOKEN, query.get('timestamp')!, query.get('nonce')!, encrypt));
  t.is((await post(query, other.body)).status, 401);
  t.is(reached.length, 1);
});

test('WECHAT_MODE=safe refuses plaintext pushes and answers encrypted ones', async (t) => {
  const { reached, post, server } = await spiedServer(t, { aes: true, mode: 'safe' });
  const plain = await post(signedQuery(), click());
  t.is(plain.status, 403);
  t.regex(await plain.text(), /WECHAT_MODE=safe/);
  t.deepEqual(reached, []);
  t.like(await readReply(await server.pushAes(eventFields(openid(), 'CLICK', { EventKey: 'TODAY' }))), { Content: 'today reply' });
});

test('compatible mode (the default with a key) still answers plaintext pushes', async (t) => {
  const { post } = await spiedServer(t, { aes: true });
  t.like(await readReply(await post(signedQuery(), click())), { Content: 'today reply' });
});

test('settings: WECHAT_MODE and WECHAT_MAX_SKEW_S are read and checked', (t) => {
  const account = { WECHAT_APPID: 'wx1', WECHAT_SECRET: 's', WECHAT_TOKEN: 'abc123' };
  t.like(readSettings(account), { mode: 'plaintext', maxSkewS: 300 });
  t.like(readSettings({ ...account, WECHAT_AES_KEY: AES_KEY }), { mode: 'compatible' });
  t.like(readSettings({ ...account, WECHAT_AES_KEY: AES_KEY, WECHAT_MODE: 'safe', WECHAT_MAX_SKEW_S: '0' }), { mode: 'safe', maxSkewS: 0 });
  const refused = (env: Record<string, string>, message: RegExp) =>
    t.throws(() => readSettings({ ...account, ...env }), { instanceOf: SettingsError, message });
  refused({ WECHAT_MODE: 'safe' }, /WECHAT_MODE=safe needs WECHAT_AES_KEY/);
  refused({ WECHAT_MODE: 'secure', WECHAT_AES_KEY: AES_KEY }, /WECHAT_MODE must be plaintext, compatible or safe/);
  refused({ WECHAT_MAX_SKEW_S: '-1' }, /WECHAT_MAX_SKEW_S/);
  refused({ WECHAT_MAX_SKEW_S: 'five' }, /WECHAT_MAX_SKEW_S/);
});

test('the guard on a memory store: a retry is admitted, another body is not, long bodies too, and a hash never passes for a body', async (t) => {
  const { replayGuard } = await import('../core/koa/replay.ts');
  const { openStore } = await import('../core/state/open-store.ts');
  const { createHash } = await import('node:crypto');
  const { log } = memoryLogger();
  const store = await openStore('memory://', { log });
  t.teardown(() => store.close());
  const guard = replayGuard({ maxSkewS: 300, store, log });
  const now = String(Math.floor(Date.now() / 1000));
  t.true(guard.admit(now, '1', 'short') as boolean);
  t.true(guard.admit(now, '1', 'short') as boolean);
  t.false(guard.admit(now, '1', 'other') as boolean);
  const long = 'x'.repeat(5000);
  t.true(guard.admit(now, '2', long) as boolean);
  t.true(guard.admit(now, '2', long) as boolean);
  t.false(guard.admit(now, '2', `${long}y`) as boolean);
  t.false(guard.admit(now, '2', createHash('sha256').update(long).digest('base64url')) as boolean);
  t.false(guard.admit(now, '2', `h${createHash('sha256').update(long).digest('base64url')}`) as boolean);
});
