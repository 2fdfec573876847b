import test from 'ava';
import { event, makeBot, testConfig } from './_helpers.ts';

test('a plain follow gets the default welcome', async (t) => {
  const { bot } = await makeBot(t);
  t.like(await bot.handle(event('subscribe', {})), { type: 'text', content: 'default welcome' });
});

test('the welcome can be any reply type or a handler', async (t) => {
  const news = await makeBot(t, { ...testConfig(), welcome: { type: 'news', articles: [{ title: 'Hello', url: 'https://e.com' }] } });
  t.like(await news.bot.handle(event('subscribe', {})), { type: 'news' });
  const handler = await makeBot(t, { ...testConfig(), welcome: async (ctx) => `hi ${ctx.event.createTime}` });
  t.like(await handler.bot.handle(event('subscribe', { createTime: 1700000042 })), { content: 'hi 1700000042' });
});

test('no welcome configured means no reply to a follow', async (t) => {
  const { bot } = await makeBot(t, { ...testConfig(), welcome: undefined, fallback: 'fallback' });
  t.is(await bot.handle(event('subscribe', {})), undefined);
});

test('a campaign without its own welcome falls back to the default one', async (t) => {
  const { bot } = await makeBot(t, { ...testConfig(), campaigns: { bare: { scene: 'bare', permanent: true } } });
  t.like(await bot.handle(event('subscribe', { scene: 'bare' })), { content: 'default welcome' });
});
