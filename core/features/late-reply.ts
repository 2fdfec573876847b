import { customMessageOf, type WechatApi } from '../api/client.ts';
import type { Context } from '../kernel/context.ts';
import type { NormalReply } from '../protocol/reply.ts';

// WeChat lets an account write to a user within 48 hours of the user's last interaction.
const WINDOW_SECONDS = 48 * 3600;

/**
 * Makes the late-reply hook: a reply that missed the 5-second window goes out as a
 * customer-service message, while the user's window is open. Failures throw to the transport,
 * which logs them; nothing is thrown at WeChat.
 * @example
 * wechatRouter(bot, { token, log, onLateReply: lateReplySender(api) })
 */
export function lateReplySender(api: WechatApi) {
  return async (ctx: Context, reply: NormalReply): Promise<void> => {
    const message = customMessageOf(reply);
    if (!message) return ctx.log.warn({ reply: reply.type }, 'late reply: this reply type cannot be sent as a customer-service message');
    if (Date.now() / 1000 - ctx.event.createTime > WINDOW_SECONDS) {
      return ctx.log.warn('late reply: the 48-hour customer-service window has closed');
    }
    await api.sendCustom(ctx.event.from, message);
    ctx.log.info({ reply: reply.type }, 'late reply sent as a customer-service message');
  };
}
