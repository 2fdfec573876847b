// The emulator must behave like WeChat, or the tests built on it prove nothing.
import test from 'ava';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
// @ts-expect-error co-wechat-api ships no types
import CoWechatApiModule from 'co-wechat-api';
import { WechatEmulator } from '../app/emulator.ts';
import { runApp } from './_helpers.ts';

// jsqr is CommonJS with an ES-style default: under NodeNext its function is at .default.
const jsQR = jsQRModule.default;
// A client of WeChat's API from npm, as an author might use one: what the test calls of it.
interface CoWechatApiClient {
  prefix: string;
  mpPrefix: string;
  createMenu(menu: unknown): Promise<Record<string, unknown>>;
  getMenu(): Promise<Record<string, unknown>>;
  createTmpQRCode(scene: number, expire: number): Promise<{ ticket: string; expire_seconds: number }>;
  createLimitQRCode(scene: number): Promise<{ ticket: string }>;
  showQRCodeURL(ticket: string): string;
  sendText(openid: string, text: string): Promise<Record<string, unknown>>;
  getUser(openid: string): Promise<Record<string, unknown>>;
  getFollowers(): Promise<Record<string, unknown>>;
}
const CoWechatApi = CoWechatApiModule as new (appid: string, secret: string) => CoWechatApiClient;

async function emulator(t: { teardown(fn: () => unknown): void }, options: { tokenTtlSeconds?: number; permanentQuota?: number } = {}) {
  const instance = new WechatEmulator({ appId: 'wxE', secret: 'sE', ...options });
  const served = await instance.listen();
  t.teardown(served.close);
  const call = async (path: string, body?: unknown) =>
    (await (
      await fetch(
        `${served.url}${path}`,
        body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      )
    ).json()) as Record<string, unknown>;
  const token = async () =>
    String((await call('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxE', secret: 'sE' })).access_token);
  return { instance, call, token };
}

test('tokens: stable_token gives the same token while valid; the classic one invalidates it after the overlap', async (t) => {
  const { call, token } = await emulator(t);
  const a = await token();
  t.is(await token(), a);
  t.true(a.length >= 128);
  const classic = await call('/cgi-bin/token?grant_type=client_credential&appid=wxE&secret=sE');
  t.like(classic, { expires_in: 7200 });
  t.like(await call(`/cgi-bin/menu/get?access_token=${a}`), { errcode: 46003 }, 'the stable token is independent of /cgi-bin/token');
  t.like(await call('/cgi-bin/menu/get?access_token=nope'), { errcode: 40001 });
  t.like(await call('/cgi-bin/menu/get'), { errcode: 41001 });
  t.like(await call('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxX', secret: 'sE' }), { errcode: 40013 });
  t.like(await call('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxE', secret: 'bad' }), { errcode: 40125 });
});

test('tokens expire', async (t) => {
  const { call, token } = await emulator(t, { tokenTtlSeconds: 1 });
  const a = await token();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  t.like(await call(`/cgi-bin/menu/get?access_token=${a}`), { errcode: 42001 });
});

test('menus: WeChat errcodes for each limit', async (t) => {
  const { call, token } = await emulator(t);
  const path = `/cgi-bin/menu/create?access_token=${await token()}`;
  const click = (key: string) => ({ type: 'click', name: 'n', key });
  t.like(await call(path, { button: [click('1'), click('2'), click('3'), click('4')] }), { errcode: 40016 });
  t.like(await call(path, { button: [{ type: 'tap', name: 'n', key: 'k' }] }), { errcode: 40017 });
  t.like(await call(path, { button: [{ type: 'click', name: '这个名字太长了', key: 'k' }] }), { errcode: 40018 });
  t.like(await call(path, { button: [{ type: 'click', name: 'n', key: 'k'.repeat(129) }] }), { errcode: 40019 });
  t.like(await call(path, { button: [{ type: 'view', name: 'n', url: 'u'.repeat(1025) }] }), { errcode: 40020 });
  t.like(await call(path, { button: [{ name: 'm', sub_button: ['1', '2', '3', '4', '5', '6'].map(click) }] }), { errcode: 40023 });
  t.like(await call(path, { button: [{ name: 'm', sub_button: [{ type: 'view', name: 'n' }] }] }), { errcode: 40027 });
  t.like(await call(path, { button: [click('A')] }), { errcode: 0 });
});

test('QR codes: ranges checked, temporary codes get a lifetime (60 s unless sent), permanent ones are limited for ever', async (t) => {
  const { instance, call, token } = await emulator(t, { permanentQuota: 2 });
  const path = `/cgi-bin/qrcode/create?access_token=${await token()}`;
  const permanent = (id: number) => call(path, { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: id } } });
  t.like(await permanent(100_001), { errcode: 40097 });
  t.like(await call(path, { action_name: 'QR_STR_SCENE', expire_seconds: 2_592_001, action_info: { scene: { scene_str: 'x' } } }), {
    errcode: 40097,
  });
  t.like(await call(path, { action_name: 'QR_SCENE', action_info: { scene: { scene_id: 5 } } }), { expire_seconds: 60 });
  t.truthy((await permanent(1)).ticket);
  t.truthy((await permanent(2)).ticket);
  t.like(await permanent(3), { errcode: 45029 }, 'qrcode count out of limit');
  t.is(instance.permanentCount, 2);
});

test('bodies and errors as WeChat has them: JSON read whatever the content type; 44002, 47001, 43001, 43002 and 40066 as 200 JSON', async (t) => {
  const { instance, token } = await emulator(t);
  const access = await token();
  const served = await instance.listen();
  t.teardown(served.close);
  const send = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${served.url}${path}`, init);
    t.is(response.status, 200, `${init.method ?? 'GET'} ${path}`);
    t.regex(response.headers.get('content-type') ?? '', /json/);
    return (await response.json()) as Record<string, unknown>;
  };
  const menu = JSON.stringify({ button: [{ type: 'click', name: '今日', key: 'TODAY' }] });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/json']) {
    t.like(await send(`/cgi-bin/menu/create?access_token=${access}`, { method: 'POST', headers: { 'content-type': type }, body: menu }), {
      errcode: 0,
    });
  }
  t.like(await send(`/cgi-bin/menu/create?access_token=${access}`, { method: 'POST', body: '' }), { errcode: 44002 });
  t.like(await send(`/cgi-bin/menu/create?access_token=${access}`, { method: 'POST', body: '{"button": [' }), { errcode: 47001 });
  t.like(await send(`/cgi-bin/menu/create?access_token=${access}`, { method: 'POST', body: '[1]' }), { errcode: 47001 });
  t.like(await send(`/cgi-bin/menu/create?access_token=${access}`), { errcode: 43002 });
  t.like(await send(`/cgi-bin/menu/get?access_token=${access}`, { method: 'POST', body: '{}' }), { errcode: 43001 });
  t.like(await send(`/cgi-bin/no/such/api?access_token=${access}`), { errcode: 40066 });
});

test('stable_token with force_refresh invalidates the previous token at once', async (t) => {
  const { call, token } = await emulator(t);
  const old = await token();
  const fresh = await call('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxE', secret: 'sE', force_refresh: true });
  t.not(fresh.access_token, old);
  t.like(await call(`/cgi-bin/menu/get?access_token=${old}`), { errcode: 40001 });
  t.like(await call(`/cgi-bin/menu/get?access_token=${String(fresh.access_token)}`), { errcode: 46003 });
});

test('showqrcode serves the image of a code the emulator made, which reads back to its URL', async (t) => {
  const { instance, call, token } = await emulator(t);
  const code = await call(`/cgi-bin/qrcode/create?access_token=${await token()}`, {
    action_name: 'QR_LIMIT_STR_SCENE',
    action_info: { scene: { scene_str: 'poster' } },
  });
  const served = await instance.listen();
  t.teardown(served.close);
  const response = await fetch(`${served.url}/cgi-bin/showqrcode?ticket=${encodeURIComponent(String(code.ticket))}`);
  t.is(response.headers.get('content-type'), 'image/png');
  const image = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
  t.is(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data, String(code.url));
  t.is((await fetch(`${served.url}/cgi-bin/showqrcode?ticket=nope`)).status, 404);
});

test('a third-party SDK from npm (co-wechat-api) works against `wechat-mp-bot emulator`: token, menu, QR codes and their image, customer-service message, users', async (t) => {
  const cli = runApp(t, { ...process.env }, { command: 'emulator', args: ['--appid', 'wxE', '--secret', 'sE', '--followers', '2'] });
  const [, url] = await cli.until(/WeChat emulator: (http:\/\/127\.0\.0\.1:\d+)/);
  t.regex((await cli.until(/followers +(.+)/))[1]!, /oEmulatedUser0001 … oEmulatedUser0002/);
  const api = new CoWechatApi('wxE', 'sE');
  api.prefix = `${url}/cgi-bin/`;
  api.mpPrefix = `${url}/cgi-bin/`;
  const menu = { button: [{ type: 'click', name: '今日', key: 'TODAY' }] };
  t.like(await api.createMenu(menu), { errcode: 0 });
  t.like(await api.getMenu(), { menu: { button: [{ name: '今日', key: 'TODAY' }] } });
  const temporary = await api.createTmpQRCode(10_000, 1800);
  t.is(temporary.expire_seconds, 1800);
  const permanent = await api.createLimitQRCode(100);
  const image = await fetch(api.showQRCodeURL(permanent.ticket));
  t.is(image.headers.get('content-type'), 'image/png');
  t.like(await api.sendText('oEmulatedUser0001', 'hello'), { errcode: 0 });
  await t.throwsAsync(api.sendText('oSomeoneElse', 'hello'), { message: 'invalid openid' }, 'an OpenID WeChat never gave is refused');
  t.like(await api.getUser('oEmulatedUser0002'), { subscribe: 1, openid: 'oEmulatedUser0002', tagid_list: [] });
  const list = (await api.getFollowers()) as { total: number; data: { openid: string[] } };
  t.deepEqual(list.data.openid, ['oEmulatedUser0001', 'oEmulatedUser0002']);
  cli.child.kill('SIGTERM');
  t.is(await cli.exited, 0);
});

test("the emulator's consent page (open.weixin.qq.com's authorize) cannot be framed or sniffed", async (t) => {
  const instance = new WechatEmulator({ appId: 'wxE', secret: 'sE' });
  const served = await instance.listen();
  t.teardown(served.close);
  const query = new URLSearchParams({
    appid: 'wxE',
    redirect_uri: 'https://a.example/cb',
    response_type: 'code',
    scope: 'snsapi_userinfo',
  });
  const page = await fetch(`${served.url}/connect/oauth2/authorize?${query}`);
  t.is(page.headers.get('x-frame-options'), 'DENY');
  t.is(page.headers.get('content-security-policy'), "frame-ancestors 'none'");
  t.is(page.headers.get('x-content-type-options'), 'nosniff');
});
