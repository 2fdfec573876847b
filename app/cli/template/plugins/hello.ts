// An example plugin: answers 你好 (or hello), and passes every other push on down the chain.
import { on, type BotContext, type Plugin } from 'wechat-mp-bot';

export function hello(): Plugin<BotContext> {
  return {
    name: 'hello',
    middleware: on('text', (ctx) => (/^(你好|hello)$/i.test(ctx.event.text.trim()) ? '你好！' : undefined)),
  };
}
