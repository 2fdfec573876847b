// wechat-mp-bot/testing, as an author's own tests use it.
import test from 'ava';
import { testBot } from '../app/testing.ts';
import { campaignStats } from '../plugins/scene-campaign.ts';
import { testConfig } from './_helpers.ts';

test('a test bot answers follows, scans, clicks and texts as the config says, after the sync ran on the emulator', async (t) => {
  const bot = await testBot({ ...testConfig(), fallback: (ctx) => (ctx.event.type === 'text' ? `echo ${ctx.event.text}` : undefined) });
  t.teardown(bot.close);
  t.like(await bot.subscribe('poster'), { type: 'text', content: 'poster welcome' });
  t.like(await bot.scan('poster'), { type: 'text', content: 'poster scan' });
  t.like(await bot.click('TODAY'), { type: 'text', content: 'today reply' });
  t.like(await bot.text('hi'), { type: 'text', content: 'echo hi' });
  t.is(await bot.unsubscribe(), undefined);
  t.is(bot.emulator.menu?.button.length, 2);
  t.is(bot.emulator.qrcodes.size, 2);
});

test('each test bot has a user and a store of its own', async (t) => {
  const [a, b] = await Promise.all([testBot(testConfig()), testBot(testConfig())]);
  t.teardown(a.close);
  t.teardown(b.close);
  t.not(a.user, b.user);
  await a.subscribe('poster');
  t.like(await campaignStats(a.store, 'poster'), { follows: 1 });
  t.like(await campaignStats(b.store, 'poster'), { follows: 0 });
});

test.serial('a config that does not resolve is a ConfigError, and leaves nothing running', async (t) => {
  const { ConfigError } = await import('../core/config/bot-config.ts');
  const handles = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
  const before = handles();
  await t.throwsAsync(testBot({ menu: { button: [{ type: 'click', name: 'a', key: 'A' }] }, clicks: {} }), { instanceOf: ConfigError });
  // A closed server's handle goes on the next turn of the loop: give it a moment, not more.
  for (let waited = 0; handles() > before && waited < 1000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(handles(), before, 'no server is left listening');
});
