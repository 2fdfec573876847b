import type { Middleware } from './bot.ts';
import type { Context } from './context.ts';
import type { EventOf, EventType, WechatEvent } from '../protocol/events.ts';
import type { Reply } from '../protocol/reply.ts';

/** A handler may set the reply with ctx.reply() or return it. */
// Declared as a method, so its parameter is bivariant: a config whose handlers see its own campaign
// names still passes where any config is taken (resolveConfig, testBot), as React's event handlers do.
export type Handler<C> = { handle(ctx: C): Reply | void | undefined | Promise<Reply | void | undefined> }['handle'];

/** A reply given directly, or a handler that makes one. */
export type Answer<C> = Reply | Handler<C>;

/** The context narrowed to one event type. */
export type ContextOf<T extends EventType, C extends Context = Context> = Omit<C, 'event'> & { readonly event: EventOf<T> };

/**
 * Gives an answer: sets a fixed reply, or runs the handler and sets what it returns.
 * @example
 * await answer(ctx, '欢迎')
 * await answer(ctx, async (ctx) => `你好 ${ctx.event.from}`)
 */
export async function answer<C extends Pick<Context, 'reply'>>(ctx: C, given: Answer<C>): Promise<void> {
  const reply = typeof given === 'function' ? await given(ctx) : given;
  if (reply !== undefined && reply !== null) ctx.reply(reply);
}

/**
 * Runs a handler for one or more event types, with `ctx.event` narrowed, then the rest of the
 * chain (as the built-in plugins do: a later plugin sees the reply, the fallback answers if none).
 * @example
 * bot.use(plugin('scan-log', on('scan', (ctx) => ctx.log.info({ scene: ctx.event.scene }))))
 * on(['text', 'voice'], (ctx) => '收到')
 */
export function on<T extends EventType, C extends Context = Context>(
  types: T | readonly T[],
  handler: Handler<ContextOf<T, C>>,
): Middleware<C> {
  const wanted = new Set<string>(typeof types === 'string' ? [types] : types);
  return (ctx, next) => (wanted.has(ctx.event.type) ? answer(ctx as unknown as ContextOf<T, C>, handler).then(next) : next());
}

/** A middleware made by {@link click}: it carries its key, which the config checks against the menu. */
export type ClickMiddleware<C extends Context = Context> = Middleware<C> & { readonly clickKey: string };

/**
 * Runs a handler for a menu click on one key, then the rest of the chain. A plugin whose middleware
 * is a click on a key no button of the config's menu has stops the start, with its path.
 * @example
 * click('MENU_NEWS', () => ({ type: 'news', articles: [{ title: '本周新闻', url: 'https://…' }] }))
 */
export function click<C extends Context = Context>(key: string, handler: Handler<ContextOf<'click', C>>): ClickMiddleware<C> {
  const middleware: Middleware<C> = (ctx, next) =>
    ctx.event.type === 'click' && ctx.event.key === key ? answer(ctx as unknown as ContextOf<'click', C>, handler).then(next) : next();
  return Object.assign(middleware, { clickKey: key });
}

/** True when the event is of the given type; narrows `event`. */
export function isEvent<T extends EventType>(event: WechatEvent, type: T): event is Extract<WechatEvent, { type: T }> {
  return event.type === type;
}
