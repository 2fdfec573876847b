import test from 'ava';
import { readSettings } from '../app/settings.ts';

const account = { WECHAT_APPID: 'wx2c2769f8efd9abc2', WECHAT_SECRET: 'secret', WECHAT_TOKEN: 'testtoken' };

test('in emulator mode the bot listens on 127.0.0.1 only; against an account on every interface; HOST changes either', (t) => {
  t.is(readSettings({}).host, '127.0.0.1');
  t.is(readSettings(account).host, undefined);
  t.is(readSettings({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  t.is(readSettings({ ...account, HOST: '10.0.0.5' }).host, '10.0.0.5');
});
