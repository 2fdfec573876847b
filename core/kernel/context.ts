import type { WechatApi } from '../api/client.ts';
import type { WechatEvent } from '../protocol/events.ts';
import { maskId, type Logger } from './log.ts';
import { normalizeReply, type NormalReply, type Reply } from '../protocol/reply.ts';
import type { UserRecord, Users } from '../state/users.ts';

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

/**
 * Builds the context of one push. A class rather than an object of closures (under tsx each named
 * closure is renamed as it is made); its methods are bound, so `const { reply } = ctx` works. The
 * logger is made on first use, since most pushes log nothing.
 */
export function createContext<E extends WechatEvent>(event: E, log: Logger, users: Users, api: WechatApi | undefined): Context<E> {
  return new PushContext(event, log, users, api);
}

class PushContext<E extends WechatEvent> implements Context<E> {
  duplicate = false;
  readonly user: UserHandle;
  #response: NormalReply | undefined;
  #log: Logger | undefined;

  constructor(
    readonly event: E,
    private readonly parentLog: Logger,
    users: Users,
    readonly api: WechatApi | undefined,
  ) {
    this.user = new BoundUser(users, event.from);
    this.reply = this.reply.bind(this);
  }

  get log(): Logger {
    return (this.#log ??= this.parentLog.child({ event: this.event.type, user: maskId(this.event.from) }));
  }

  reply(reply: Reply): void {
    const normal = normalizeReply(reply);
    if (this.#response && normal)
      this.log.warn({ previous: this.#response.type, next: normal.type }, 'reply set twice: the later one wins');
    this.#response = normal;
  }

  get response(): NormalReply | undefined {
    return this.#response;
  }
}

// The user handle of a push: the record of the push's OpenID.
class BoundUser implements UserHandle {
  constructor(
    private readonly users: Users,
    private readonly openid: string,
  ) {
    this.get = this.get.bind(this);
    this.update = this.update.bind(this);
  }

  get(): Promise<UserRecord | undefined> {
    return this.users.get(this.openid);
  }

  update(patch: Partial<UserRecord>): Promise<UserRecord> {
    return this.users.update(this.openid, patch);
  }
}
