// The example bot in the repository root, whatever it declares: its config is valid, and the bot
// answers as that config says. (The framework's own tests use fixtures of their own.)
import test from 'ava';
import { testBot } from '../app/testing.ts';
import { normalizeReply } from '../core/protocol/reply.ts';
import { resolveConfig } from '../core/config/bot-config.ts';
import { campaignStats } from '../plugins/scene-campaign.ts';
import config from '../bot.config.ts';

const resolved = resolveConfig(config);
// A fixed answer is known ahead; a handler's is whatever it returns.
const fixed = (answer: unknown) => (typeof answer === 'function' || answer === undefined ? undefined : normalizeReply(answer as never));

test('a new follower gets the welcome the config declares', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  const reply = await bot.subscribe();
  const expected = fixed(resolved.welcome);
  if (expected) t.deepEqual(reply, expected);
  else t.pass('the welcome is a handler, or there is none: it ran without failing');
});

test('every click key of the menu gets the answer the config declares', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  await bot.subscribe();
  for (const [key, answer] of resolved.clicks) {
    const reply = await bot.click(key);
    const expected = fixed(answer);
    if (expected) t.deepEqual(reply, expected, key);
  }
  t.pass();
});

test('every campaign has its code after the start-up sync, and a follow through it is attributed', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  t.is(bot.emulator.qrcodes.size, resolved.campaigns.size);
  for (const [name, campaign] of resolved.campaigns) {
    const reply = await bot.send('subscribe', { from: `oExample${name}`, scene: String(campaign.scene), ticket: 'TK' });
    const expected = fixed(campaign.welcome ?? resolved.welcome);
    if (expected) t.deepEqual(reply, expected, name);
    t.like(await campaignStats(bot.store, name), { follows: 1 }, name);
  }
});

test('every conditional menu is on the account after the start-up sync, with the tags it names', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  t.is(bot.emulator.menus.conditional.length, resolved.conditionalMenus.size);
  const tags = (bot.emulator.users.listTags().tags as { name: string }[]).map((tag) => tag.name);
  for (const name of resolved.tags) t.true(tags.includes(name), name);
});
