// Web authorization (网页授权) and the JS-SDK, over HTTP, against the emulator.
import test, { type ExecutionContext } from 'ava';
import { jssdkSignature } from '../core/protocol/jssdk.ts';
import { openStore } from '../core/state/open-store.ts';
import { APPID, memoryLogger, startEmulator, startServer, testConfig, type TestServer } from './_helpers.ts';
import { redisTest, startRedis } from './_redis.ts';

const PUBLIC = 'https://bot.example.com';
const API_TOKEN = 'oauth-test-api-token-123';
const PAGE = 'https://shop.example.com/member?from=menu';
const config = { ...testConfig(), oauth: { redirectHosts: ['shop.example.com'] } };

async function oauthServer(t: ExecutionContext, store?: Awaited<ReturnType<typeof openStore>>) {
  const emulated = await startEmulator(t, store ? { store } : {});
  const server = await startServer(t, { api: emulated.api, config, publicUrl: PUBLIC, apiToken: API_TOKEN, ...(store ? { store } : {}) });
  return { ...emulated, server };
}

const local = (server: TestServer, path: string) => server.url.replace(/\/wechat$/, path);
const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { redirect: 'manual', headers });
const bearer = { authorization: `Bearer ${API_TOKEN}` };

/** /oauth/authorize → WeChat's page (the emulator's) → its decision → our callback: the page's URL at the end. */
async function openThroughWechat(
  server: TestServer,
  options: { scope: string; allow?: boolean; openid?: string; callbackOn?: TestServer },
) {
  const start = await get(local(server, `/oauth/authorize?${new URLSearchParams({ redirect: PAGE, scope: options.scope })}`));
  const authorize = new URL(start.headers.get('location')!);
  const decide = new URL('/connect/oauth2/authorize/decide', authorize);
  for (const name of ['redirect_uri', 'state', 'scope']) decide.searchParams.set(name, authorize.searchParams.get(name)!);
  decide.searchParams.set('openid', options.openid ?? 'oWebUser0001');
  decide.searchParams.set('allow', options.allow === false ? '0' : '1');
  const back = new URL((await get(decide.href)).headers.get('location')!);
  // WeChat sends the browser to BOT_PUBLIC_URL/oauth/callback: here, the server itself.
  const callback = await get(local(options.callbackOn ?? server, `/oauth/callback${back.search}`));
  return { start, authorize, back, callback, state: authorize.searchParams.get('state')! };
}

test("the authorize redirect is WeChat's URL exactly: keys in order, redirect_uri encoded, an unguessable state", async (t) => {
  const { server, url } = await oauthServer(t);
  const response = await get(local(server, `/oauth/authorize?${new URLSearchParams({ redirect: PAGE, scope: 'snsapi_userinfo' })}`));
  t.is(response.status, 302);
  const location = response.headers.get('location')!;
  t.regex(
    location,
    new RegExp(
      `^${url.replace(/[.:/]/g, '\\$&')}/connect/oauth2/authorize\\?appid=${APPID}&redirect_uri=https%3A%2F%2Fbot\\.example\\.com%2Foauth%2Fcallback&response_type=code&scope=snsapi_userinfo&state=[\\w-]{24}#wechat_redirect$`,
    ),
  );
  const again = (await get(local(server, `/oauth/authorize?${new URLSearchParams({ redirect: PAGE })}`))).headers.get('location')!;
  t.not(new URL(again).searchParams.get('state'), new URL(location).searchParams.get('state'), 'a new state each time');
  t.regex(again, /scope=snsapi_base/, 'snsapi_base by default');
});

test('no open redirect: a page on a host not listed, not https, or not a URL gets 400', async (t) => {
  const { server } = await oauthServer(t);
  for (const redirect of [
    'https://evil.example.net/',
    'https://shop.example.com.evil.net/',
    'http://shop.example.com/member',
    '//shop.example.com/member',
    'https://user:pass@shop.example.com/',
    'javascript:alert(1)',
  ]) {
    const response = await get(local(server, `/oauth/authorize?${new URLSearchParams({ redirect })}`));
    t.is(response.status, 400, redirect);
    t.is(response.headers.get('location'), null, redirect);
  }
  t.is((await get(local(server, `/oauth/authorize?${new URLSearchParams({ redirect: PAGE, scope: 'snsapi_login' })}`))).status, 400);
});

test('snsapi_userinfo: the page gets a ticket, the website reads who it was once, with the profile; the code is exchanged once', async (t) => {
  const { server, emulator } = await oauthServer(t);
  await server.push({
    ToUserName: 'gh',
    FromUserName: 'oWebUser0001',
    CreateTime: 1,
    MsgType: 'event',
    Event: 'subscribe',
    EventKey: 'qrscene_poster',
  });
  const { callback } = await openThroughWechat(server, { scope: 'snsapi_userinfo' });
  t.is(callback.status, 302);
  const page = new URL(callback.headers.get('location')!);
  t.is(`${page.origin}${page.pathname}`, 'https://shop.example.com/member');
  t.is(page.searchParams.get('from'), 'menu', "the page's own query is kept");
  const ticket = page.searchParams.get('wx_ticket')!;
  t.regex(ticket, /^[\w-]{24}$/);
  t.false(page.href.includes('oWebUser0001'), 'the OpenID never travels in a URL');
  const read = await get(local(server, `/api/oauth/tickets/${ticket}`), bearer);
  t.is(read.status, 200);
  t.like(await read.json(), {
    openid: 'oWebUser0001',
    scope: 'snsapi_userinfo',
    user: { nickname: '模拟用户0001' },
    follower: true,
    campaign: 'poster',
  });
  t.is((await get(local(server, `/api/oauth/tickets/${ticket}`), bearer)).status, 404, 'a ticket is read once');
  t.is((await get(local(server, `/api/oauth/tickets/${ticket}`))).status, 401, 'behind BOT_API_TOKEN');
  t.is(emulator.calls.filter((c) => c.api === 'sns/oauth2/access_token').length, 1, 'the code exchanged once');
});

test('snsapi_base: the OpenID without the profile, and sns/userinfo is never called', async (t) => {
  const { server, emulator } = await oauthServer(t);
  const { callback } = await openThroughWechat(server, { scope: 'snsapi_base', openid: 'oBaseUser' });
  const ticket = new URL(callback.headers.get('location')!).searchParams.get('wx_ticket')!;
  const user = (await (await get(local(server, `/api/oauth/tickets/${ticket}`), bearer)).json()) as Record<string, unknown>;
  t.like(user, { openid: 'oBaseUser', scope: 'snsapi_base' });
  t.is(user.user, undefined);
  t.is(emulator.calls.filter((c) => c.api === 'sns/userinfo').length, 0);
});

test('a user who refuses comes back to the page with wx_error=denied, and its state is used up', async (t) => {
  const { server } = await oauthServer(t);
  const { callback, back } = await openThroughWechat(server, { scope: 'snsapi_userinfo', allow: false });
  t.is(back.searchParams.get('code'), null, 'WeChat sends no code');
  const page = new URL(callback.headers.get('location')!);
  t.is(page.searchParams.get('wx_error'), 'denied');
  t.is(page.searchParams.get('wx_ticket'), null);
  t.is((await get(local(server, `/oauth/callback${back.search}`))).status, 400);
});

test('a forged, unknown or reused state is refused, and a code WeChat refuses is a 400 that says so', async (t) => {
  const { server, emulator } = await oauthServer(t);
  t.is((await get(local(server, '/oauth/callback?code=abc&state=forgedforgedforgedforged'))).status, 400);
  t.is((await get(local(server, '/oauth/callback?code=abc'))).status, 400);
  const { back, callback } = await openThroughWechat(server, { scope: 'snsapi_base' });
  t.is(callback.status, 302);
  const reused = await get(local(server, `/oauth/callback${back.search}`));
  t.is(reused.status, 400, 'a state is used once');
  t.regex(((await reused.json()) as { error: string }).error, /state/);
  t.is(emulator.calls.filter((c) => c.api === 'sns/oauth2/access_token').length, 1);
  // A state that is valid, with a code WeChat does not know (40029).
  const start = await get(local(server, `/oauth/authorize?${new URLSearchParams({ redirect: PAGE })}`));
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const bad = await get(local(server, `/oauth/callback?code=notacode&state=${state}`));
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /40029/);
});

redisTest(
  test,
  'across two instances on Redis: authorize on one, WeChat comes back to the other, the ticket is read on the first',
  async (t) => {
    const redis = await startRedis(t);
    const store = await openStore(redis.url, { log: memoryLogger().log });
    t.teardown(() => store.close());
    const { server, api } = await oauthServer(t, store);
    const other = await startServer(t, { api, config, publicUrl: PUBLIC, apiToken: API_TOKEN, store });
    const { callback } = await openThroughWechat(server, { scope: 'snsapi_base', callbackOn: other });
    t.is(callback.status, 302);
    const ticket = new URL(callback.headers.get('location')!).searchParams.get('wx_ticket')!;
    t.is((await get(local(server, `/api/oauth/tickets/${ticket}`), bearer)).status, 200);
    t.is((await get(local(other, `/api/oauth/tickets/${ticket}`), bearer)).status, 404, 'read once across instances');
  },
);

test("the JS-SDK signature is WeChat's: the documentation's example, and a page's config signed with the account's ticket", async (t) => {
  t.is(
    jssdkSignature({
      ticket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
      nonceStr: 'Wm3WZYTPz0wzccnW',
      timestamp: 1414587457,
      url: 'http://mp.weixin.qq.com?params=value',
    }),
    '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
  );
  const { server, api } = await oauthServer(t);
  const url = 'https://shop.example.com/coupon?id=7';
  const response = await get(local(server, `/api/jssdk/config?${new URLSearchParams({ url: `${url}#top` })}`), bearer);
  t.is(response.status, 200);
  const config = (await response.json()) as { appId: string; timestamp: number; nonceStr: string; signature: string };
  t.is(config.appId, APPID);
  t.is(config.signature, jssdkSignature({ ticket: await api.jsapiTicket(), nonceStr: config.nonceStr, timestamp: config.timestamp, url }));
  t.is((await get(local(server, `/api/jssdk/config?${new URLSearchParams({ url })}`))).status, 401);
  t.is((await get(local(server, '/api/jssdk/config?url=ftp%3A%2F%2Fx'), bearer)).status, 400);
});

test('one jsapi_ticket fetch for a burst on two instances sharing a store', async (t) => {
  const { makeApi, emulator } = await startEmulator(t);
  const [a, b] = [makeApi(), makeApi()];
  const tickets = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).jsapiTicket()));
  t.is(new Set(tickets).size, 1);
  t.is(emulator.calls.filter((c) => c.api === 'ticket/getticket').length, 1);
});

test('an unfollow purges what web authorization holds about the user: a ticket not yet read is gone', async (t) => {
  const { server } = await oauthServer(t);
  const { callback } = await openThroughWechat(server, { scope: 'snsapi_userinfo', openid: 'oLeavingUser' });
  const ticket = new URL(callback.headers.get('location')!).searchParams.get('wx_ticket')!;
  await server.push({ ToUserName: 'gh', FromUserName: 'oLeavingUser', CreateTime: 2, MsgType: 'event', Event: 'unsubscribe' });
  t.is((await get(local(server, `/api/oauth/tickets/${ticket}`), bearer)).status, 404);
  // A ticket read before the unfollow leaves no link behind in the user's record.
  const second = await openThroughWechat(server, { scope: 'snsapi_base', openid: 'oStayingUser' });
  const kept = new URL(second.callback.headers.get('location')!).searchParams.get('wx_ticket')!;
  t.is((await get(local(server, `/api/oauth/tickets/${kept}`), bearer)).status, 200);
  t.deepEqual((await server.bot.users.get('oStayingUser'))?.links ?? [], []);
});
