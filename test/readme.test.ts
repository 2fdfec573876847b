// The README's plugin example, as written there: it must compile and do what the README says.
import test from 'ava';
import { on, type Plugin, type BotContext, type Store } from '../core/index.ts';
import { event, makeBot, testConfig } from './_helpers.ts';

/** Answers "ping" with "pong", and remembers how many times each user asked. */
export function pingPong(): Plugin<BotContext> {
  return {
    name: 'ping-pong',
    middleware: on('text', async (ctx) => {
      if (ctx.event.text.trim() !== 'ping') return; // no reply: the chain's fallback may answer
      const record = await ctx.user.update({ pings: Number((await ctx.user.get())?.pings ?? 0) + 1 });
      return `pong #${record.pings}`;
    }),
  };
}

test("the README's ping-pong plugin answers and counts per user", async (t) => {
  const { bot } = await makeBot(t, { ...testConfig(), plugins: [pingPong()], fallback: 'fallback' });
  const from = 'oPinger';
  t.like(await bot.handle(event('text', { from, text: 'ping', msgId: '1' })), { content: 'pong #1' });
  t.like(await bot.handle(event('text', { from, text: ' ping ', msgId: '2' })), { content: 'pong #2' });
  t.like(await bot.handle(event('text', { from, text: 'hello', msgId: '3' })), { content: 'fallback' });
});

/** Counts every click, by key, in the store. */
export function clickCounter(): Plugin<BotContext> {
  let store: Store | undefined;
  return {
    name: 'click-counter',
    init: (services) => void (store = services.store),
    middleware: (ctx, next) => (ctx.event.type === 'click' ? store!.increment(`clicks:${ctx.event.key}`).then(next) : next()),
  };
}

test("the README's click counter gets the bot's own store at init, and the click is still answered", async (t) => {
  const { bot, store } = await makeBot(t, { ...testConfig(), plugins: [clickCounter()] });
  t.like(await bot.handle(event('click', { key: 'TODAY' })), { type: 'text' });
  await bot.handle(event('click', { key: 'TODAY' }));
  t.is(await store.get('clicks:TODAY'), 2);
});
