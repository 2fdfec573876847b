import test from 'ava';
import { event, makeBot, testConfig } from './_helpers.ts';

test('a click key gets its configured reply', async (t) => {
  const { bot } = await makeBot(t);
  t.like(await bot.handle(event('click', { key: 'TODAY' })), { content: 'today reply' });
});

test('a click handler gets the narrowed context', async (t) => {
  const { bot } = await makeBot(t, { ...testConfig(), clicks: { TODAY: (ctx) => `you clicked ${ctx.event.key}`, SLOW: 'x' } });
  t.like(await bot.handle(event('click', { key: 'TODAY' })), { content: 'you clicked TODAY' });
});

test('an unknown key is logged and falls through to the fallback', async (t) => {
  const { bot, log } = await makeBot(t, { ...testConfig(), fallback: 'menu changed, try again' });
  t.like(await bot.handle(event('click', { key: 'OLD_KEY' })), { content: 'menu changed, try again' });
  t.like(
    log.lines().find((l) => l.key === 'OLD_KEY'),
    { msg: 'click on a key with no answer' },
  );
});

test('VIEW is observed and counted, answered with nothing', async (t) => {
  const { bot, store, log } = await makeBot(t);
  t.is(await bot.handle(event('view', { url: 'https://example.com/' })), undefined);
  t.is(await store.get('menu:views'), 1);
  t.like(
    log.lines().find((l) => l.url === 'https://example.com/'),
    { msg: 'menu link opened' },
  );
});
