// The README's plugin example, as written there: it must compile and do what the README says.
import test from 'ava';
import { on, type Plugin, type BotContext } from '../core/index.ts';
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
