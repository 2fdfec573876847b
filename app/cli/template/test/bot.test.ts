// The bot's own tests: a bot built from bot.config.ts, driven without HTTP, against the emulator.
import test from 'ava';
import { testBot } from 'wechat-mp-bot/testing';
import config from '../bot.config.ts';

test('a new follower gets the welcome', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  t.like(await bot.subscribe(), { type: 'text', content: config.welcome });
});

test('a follower who scanned the poster gets its welcome', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  t.like(await bot.subscribe('spring-poster'), { type: 'text', content: '欢迎！你是扫海报来的。' });
});

test('the plugin answers hello', async (t) => {
  const bot = await testBot(config);
  t.teardown(bot.close);
  t.like(await bot.text('你好'), { type: 'text', content: '你好！' });
});
