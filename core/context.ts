import type { WechatApi } from './api.ts';
import type { WechatEvent } from './events.ts';
import type { Logger } from './log.ts';
import { normalizeReply, type NormalReply, type Reply } from './reply.ts';
import type { UserRecord, Users } from './users.ts';

/** The current user's record, bound to the push's OpenID. */
export interface UserHandle {
  get(): Promise<UserRecord | undefined>;
  update(patch: Partial<UserRecord>): Promise<UserRecord>;
}

/**
 * What a plugin sees for one push. Plugins widen it with flavor types (e.g. CampaignFlavor).
 * @example
 * bot.use({ name: 'echo', middleware: (ctx, next) => ctx.event.type === 'text' ? ctx.reply(ctx.event.text) : next() })
 */
export interface Context<E extends WechatEvent = WechatEvent> {
  readonly event: E;
  /** Logger carrying the event type and a masked user id. */
  readonly log: Logger;
  readonly user: UserHandle;
  /** WeChat's HTTP API (customer-service messages, user info, …); undefined when the bot has none. */
  readonly api: WechatApi | undefined;
  /** Sets the passive reply; a later call replaces an earlier one. */
  reply(reply: Reply): void;
  /** The reply set so far. */
  readonly response: NormalReply | undefined;
  /** True when this push is a retry answered from the dedupe record: no plugin after dedupe ran. */
  duplicate: boolean;
}

/** Builds the context of one push. */
export function createContext<E extends WechatEvent>(event: E, log: () => Logger, users: Users, api: WechatApi | undefined): Context<E> {
  let response: NormalReply | undefined;
  return {
    event,
    get log() {
      return log();
    },
    api,
    duplicate: false,
    user: {
      get: () => users.get(event.from),
      update: (patch) => users.update(event.from, patch),
    },
    reply(reply) {
      const normal = normalizeReply(reply);
      if (response && normal) log().warn({ previous: response.type, next: normal.type }, 'reply set twice: the later one wins');
      response = normal;
    },
    get response() {
      return response;
    },
  };
}
