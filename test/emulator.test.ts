// The emulator must behave like WeChat, or the tests built on it prove nothing.
import test from 'ava';
import { WechatEmulator } from '../app/emulator.ts';

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
  t.like(await permanent(3), { errcode: 45009 });
  t.is(instance.permanentCount, 2);
});
