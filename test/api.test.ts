import test from 'ava';
import { ApiArgumentError, ApiError, customMessageOf } from '../core/api/client.ts';
import { startEmulator } from './_helpers.ts';

test('one token is fetched for many concurrent calls', async (t) => {
  const { emulator, api } = await startEmulator(t);
  await Promise.all(Array.from({ length: 20 }, (_, i) => api.userInfo(`oUser${i}`)));
  t.is(emulator.count('stable_token'), 1);
  t.is(emulator.count('user/info'), 20);
});

test('processes sharing a store share the token', async (t) => {
  const { emulator, makeApi } = await startEmulator(t);
  await makeApi().userInfo('oA');
  await makeApi().userInfo('oB');
  t.is(emulator.count('stable_token'), 1);
});

test('the classic /cgi-bin/token endpoint works as an option', async (t) => {
  const { emulator, api } = await startEmulator(t, { tokenMode: 'classic' });
  await api.userInfo('oA');
  t.is(emulator.count('token'), 1);
  t.is(emulator.count('stable_token'), 0);
});

test('a token invalidated mid-run (40001) is refreshed once and the call succeeds', async (t) => {
  const { emulator, api } = await startEmulator(t);
  await api.userInfo('oA');
  emulator.invalidateTokens();
  t.like(await api.userInfo('oB'), { openid: 'oB' });
  t.is(emulator.count('stable_token'), 2);
  t.deepEqual(
    emulator.calls.filter((c) => c.api === 'user/info').map((c) => c.errcode),
    [0, 40001, 0],
  );
});

test('a stale-token error makes one refresh, not one per instance', async (t) => {
  const { emulator, makeApi } = await startEmulator(t);
  const [a, b] = [makeApi(), makeApi()];
  await a.userInfo('oA');
  await b.userInfo('oB');
  emulator.invalidateTokens();
  await a.userInfo('oA'); // refreshes, and shares the new token through the store
  await b.userInfo('oB'); // its old token fails too, but the store already holds a newer one
  t.is(emulator.count('stable_token'), 2);
});

test('-1 (busy) is retried with backoff, then succeeds', async (t) => {
  const { emulator, api } = await startEmulator(t);
  emulator.fail('menu/get', { errcode: -1, times: 2 });
  t.is(await api.getMenu(), undefined, 'no menu yet: 46003 means undefined');
  t.deepEqual(
    emulator.calls.filter((c) => c.api === 'menu/get').map((c) => c.errcode),
    [-1, -1, 46003],
  );
});

test('-1 that does not stop gives up after the backoff with a clear error', async (t) => {
  const { emulator, api } = await startEmulator(t);
  emulator.fail('menu/get', { errcode: -1, times: 10 });
  const error = await t.throwsAsync(api.getMenu(), { instanceOf: ApiError });
  t.is(error.errcode, -1);
  t.is(emulator.count('menu/get'), 4);
});

test('quota and whitelist errors are reported clearly and not retried', async (t) => {
  const { emulator, api } = await startEmulator(t);
  emulator.fail('qrcode/create', { errcode: 45009 });
  const quota = await t.throwsAsync(api.createQrCode({ scene: 1, permanent: true }), { instanceOf: ApiError });
  t.like(quota, { errcode: 45009, api: 'qrcode/create' });
  t.regex(quota.message, /quota/);
  t.is(emulator.count('qrcode/create'), 1);
  emulator.fail('menu/create', { errcode: 40164 });
  await t.throwsAsync(api.createMenu({ button: [{ type: 'click', name: 'a', key: 'A' }] }), {
    message: /menu\/create: errcode 40164 .*IP whitelist/,
  });
});

test('a wrong secret says so, and no error message holds the secret or a token', async (t) => {
  const { makeApi, api } = await startEmulator(t);
  const error = await t.throwsAsync(makeApi({ secret: 'wrong-secret-value' }).tokens.get(), { instanceOf: ApiError });
  const token = await api.tokens.get();
  t.is(error.errcode, 40125);
  t.regex(error.message, /WECHAT_SECRET is wrong/);
  t.false(error.message.includes('wrong-secret-value'));
  t.false(error.message.includes(token));
});

test('every call has a timeout, and garbage answers are errors', async (t) => {
  // A timeout a loaded machine still meets for the token, and a delay well past it.
  const { emulator, api } = await startEmulator(t, { timeoutMs: 1000 });
  await api.tokens.get();
  emulator.fail('menu/get', { delayMs: 3000 });
  await t.throwsAsync(api.getMenu(), { instanceOf: ApiError, message: 'menu/get: timed out' });
  emulator.fail('user/info', { invalidJson: true });
  await t.throwsAsync(api.userInfo('oA'), { instanceOf: ApiError, message: 'user/info: answer is not JSON' });
});

test('WeChat unreachable is an ApiError that says so', async (t) => {
  const { makeApi } = await startEmulator(t);
  await t.throwsAsync(makeApi({ base: 'http://127.0.0.1:9' }).userInfo('oA'), { instanceOf: ApiError, message: /unreachable/ });
});

test('all four kinds of QR code are created with the right action_name', async (t) => {
  const { emulator, api } = await startEmulator(t);
  await api.createQrCode({ scene: 7, permanent: true });
  await api.createQrCode({ scene: 'door', permanent: true });
  const temporary = await api.createQrCode({ scene: 4_000_000_000, expireSeconds: 3600 });
  await api.createQrCode({ scene: 'poster', expireSeconds: 2_592_000 });
  t.deepEqual(
    [...emulator.qrcodes.values()].map((c) => [c.actionName, c.scene, c.expireSeconds]),
    [
      ['QR_LIMIT_SCENE', 7, undefined],
      ['QR_LIMIT_STR_SCENE', 'door', undefined],
      ['QR_SCENE', 4_000_000_000, 3600],
      ['QR_STR_SCENE', 'poster', 2_592_000],
    ],
  );
  t.is(temporary.expireSeconds, 3600);
  t.regex(temporary.url, /^http:\/\/weixin\.qq\.com\/q\//);
});

test('bad arguments fail locally, before anything is sent, saying what to change', async (t) => {
  const { emulator, api } = await startEmulator(t);
  await t.throwsAsync(api.createQrCode({ scene: 100_001, permanent: true }), { instanceOf: ApiArgumentError, message: /1 to 100000/ });
  await t.throwsAsync(api.createQrCode({ scene: 'x', expireSeconds: 2_592_001 }), { instanceOf: ApiArgumentError, message: /2592000/ });
  await t.throwsAsync(api.createQrCode({ scene: '', expireSeconds: 60 }), { instanceOf: ApiArgumentError, message: /1 to 64 characters/ });
  const sub = ['1', '2', '3', '4', '5', '6'].map((key) => ({ type: 'click' as const, name: 'b', key }));
  await t.throwsAsync(api.createMenu({ button: [{ name: 'more', sub_button: sub }] }), {
    instanceOf: ApiArgumentError,
    message: 'menu.button[0].sub_button[5]: a sub menu holds at most 5 buttons',
  });
  t.is(emulator.count('qrcode/create') + emulator.count('menu/create'), 0);
});

test('the showqrcode address URL-encodes the ticket', async (t) => {
  const { api } = await startEmulator(t);
  t.is(api.qrImageUrl('gQH+7zw/a=='), 'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH%2B7zw%2Fa%3D%3D');
});

test('menus round-trip: create, get, current self-menu info, delete', async (t) => {
  const { api } = await startEmulator(t);
  const menu = { button: [{ type: 'click' as const, name: '今日', key: 'TODAY' }] };
  await api.createMenu(menu);
  t.like((await api.getMenu())?.menu.button[0], { type: 'click', key: 'TODAY' });
  t.like(await api.getCurrentSelfMenuInfo(), { is_menu_open: 1 });
  await api.deleteMenu();
  t.is(await api.getMenu(), undefined);
});

test('customer-service messages: every reply type maps to one, and they are recorded', async (t) => {
  const { emulator, api } = await startEmulator(t);
  const replies = [
    { type: 'text', content: 'hi' },
    { type: 'image', mediaId: 'M' },
    { type: 'voice', mediaId: 'V' },
    { type: 'video', mediaId: 'VI', title: 'T' },
    { type: 'music', thumbMediaId: 'TH', musicUrl: 'http://m' },
    { type: 'news', articles: [{ title: 'N', url: 'http://n', picUrl: 'http://p' }] },
  ] as const;
  for (const reply of replies) await api.sendCustom('oUser', customMessageOf(reply)!);
  t.deepEqual(
    emulator.customMessages.map((m) => m.msgtype),
    ['text', 'image', 'voice', 'video', 'music', 'news'],
  );
  t.like(emulator.customMessages[5], { touser: 'oUser', news: { articles: [{ title: 'N', url: 'http://n', picurl: 'http://p' }] } });
  t.is(customMessageOf({ type: 'transfer_customer_service' }), undefined);
});

test('api.get and api.post reach an endpoint with no wrapper, with the token, the refresh, the busy retry and errcodes as ApiError', async (t) => {
  const { api, emulator } = await startEmulator(t);
  const ticket = await api.get('ticket/getticket', { type: 'jsapi' });
  t.is(typeof ticket.ticket, 'string');
  t.deepEqual(await api.get('/cgi-bin/menu/get').catch((e: ApiError) => e.errcode), 46003, 'the /cgi-bin/ prefix may be given');

  emulator.invalidateTokens(); // 40001 next: refreshed once, then answered
  emulator.fail('message/custom/send', { errcode: -1, times: 1 }); // busy once: retried
  await api.post('message/custom/send', { touser: 'o-someone', msgtype: 'text', text: { content: 'hi' } });
  t.is(emulator.customMessages.length, 1);

  const refused = await t.throwsAsync(api.post('message/custom/send', { touser: 'o-someone', msgtype: 'text', text: { content: '' } }), {
    instanceOf: ApiError,
  });
  t.is(refused.errcode, 44004);
  t.is(refused.api, 'message/custom/send');

  await t.throwsAsync(api.get('tags/get?x=1'), { instanceOf: ApiArgumentError, message: /query argument/ });
  await t.throwsAsync(api.get('tags/get', { access_token: 'mine' }), { instanceOf: ApiArgumentError, message: /access_token/ });
});
