import test from 'ava';
import { readSettings, SettingsError } from '../app/settings.ts';

const account = { WECHAT_APPID: 'wx2c2769f8efd9abc2', WECHAT_SECRET: 'secret', WECHAT_TOKEN: 'testtoken' };

test('in emulator mode the bot listens on 127.0.0.1 only; against an account on every interface; HOST changes either', (t) => {
  t.is(readSettings({}).host, '127.0.0.1');
  t.is(readSettings(account).host, undefined);
  t.is(readSettings({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  t.is(readSettings({ ...account, HOST: '10.0.0.5' }).host, '10.0.0.5');
});

test('a console or API token shorter than 16 characters stops the start', (t) => {
  t.throws(() => readSettings({ ...account, BOT_CONSOLE_TOKEN: 'console-secret' }), {
    instanceOf: SettingsError,
    message: /BOT_CONSOLE_TOKEN .*at least 16 characters/,
  });
  t.throws(() => readSettings({ ...account, BOT_API_TOKEN: 'hunter2' }), {
    instanceOf: SettingsError,
    message: /BOT_API_TOKEN .*at least 16/,
  });
  t.like(readSettings({ ...account, BOT_CONSOLE_TOKEN: 'a'.repeat(16), BOT_API_TOKEN: 'b'.repeat(16) }), {
    consoleToken: 'a'.repeat(16),
    apiToken: 'b'.repeat(16),
  });
});

test('BOT_TRUST_PROXY is 1 or true to believe a proxy, unset or 0 or false not to; anything else stops the start', (t) => {
  t.false(readSettings(account).trustProxy);
  t.true(readSettings({ ...account, BOT_TRUST_PROXY: '1' }).trustProxy);
  t.true(readSettings({ ...account, BOT_TRUST_PROXY: 'true' }).trustProxy);
  t.false(readSettings({ ...account, BOT_TRUST_PROXY: 'false' }).trustProxy);
  t.throws(() => readSettings({ ...account, BOT_TRUST_PROXY: 'yes please' }), { instanceOf: SettingsError, message: /BOT_TRUST_PROXY/ });
});
