import type { Plugin } from '../core/kernel/bot.ts';
import type { Context, UserRecords } from '../core/kernel/context.ts';

/**
 * On unsubscribe, deletes everything held about the user, after the rest of the chain has seen
 * the event (so a campaign can still count the unfollow). One delete by key, no scan.
 * @example
 * new Bot({ services, plugins: [dedupe(), unsubscribePurge(), …] })
 */
export function unsubscribePurge(): Plugin {
  let users: UserRecords | undefined;
  return {
    name: 'unsubscribe-purge',
    init(services) {
      users = services.users;
    },
    middleware(ctx, next) {
      return ctx.event.type === 'unsubscribe' ? purgeAfter(ctx, next) : next();
    },
  };

  async function purgeAfter(ctx: Context, next: () => Promise<void>): Promise<void> {
    try {
      await next();
    } finally {
      await users?.delete(ctx.event.from);
      ctx.log.info('unsubscribe: user data purged');
    }
  }
}
