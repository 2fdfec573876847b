// The bot's own tests: the bot built from bot.config.ts, driven without HTTP against the emulator.
// They follow the config, whatever it declares: edit bot.config.ts and they still hold; add tests
// of your own for what your handlers should say.
import test from 'ava';
import { campaignStats, normalizeReply, resolveConfig, type Reply } from 'wechat-mp-bot';
import { testBot } from 'wechat-mp-bot/testing';
import config from '../bot.config.ts';
import { hello } from '../plugins/hello.ts';

const resolved = resolveConfig(config); // throws, naming each problem, for a config WeChat would refuse
// A fixed answer is known ahead; a handler's is whatever it returns.
const fixed = (answer: unknown) => (typeof answer === 'function' || answer === undefined ? undefined : normalizeReply(answer as Reply));

test('a new follower gets the welcome', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  const reply = await bot.subscribe();
  const expected = fixed(resolved.welcome);
  if (expected) t.deepEqual(reply, expected);
  else t.pass('the welcome is a handler, or there is none');
});

test('every click button of the menu gets its answer', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  for (const [key, answer] of resolved.clicks) {
    const expected = fixed(answer);
    const reply = await bot.click(key);
    if (expected) t.deepEqual(reply, expected, key);
  }
  t.pass();
});

test('a follow through each campaign code gets its welcome, and is counted', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  for (const [name, campaign] of resolved.campaigns) {
    const reply = await bot.send('subscribe', { from: `oFollower-${name}`, scene: String(campaign.scene), ticket: 'TICKET' });
    const expected = fixed(campaign.welcome ?? resolved.welcome);
    if (expected) t.deepEqual(reply, expected, name);
    t.like(await campaignStats(bot.store, name), { follows: 1 }, name);
  }
});

// A plugin on its own, in a bot of its own: what it answers, and that it lets other texts pass.
test('the hello plugin answers 你好, and nothing else', async (t) => {
  const bot = await testBot({ plugins: [hello()] });
  t.teardown(bot.close);
  t.like(await bot.text('你好'), { type: 'text', content: '你好！' });
  t.is(await bot.text('something else'), undefined);
});
