import type { WechatEvent } from '../protocol/events.ts';
import { maskId, type Logger } from './log.ts';
import { normalizeReply, type NormalReply, type Reply } from '../protocol/reply.ts';

/** What the bot keeps about one follower. Plugins add their own fields. */
export interface UserRecord {
  /** The campaign whose code brought this follower, if any. */
  campaign?: string;
  /** When the follow arrived, in seconds. */
  followedAt?: number;
  /** Other store keys that hold this user's data, deleted with the record. */
  links?: string[];
  [field: string]: unknown;
}

/**
 * The user records the kernel reads and writes, by OpenID; the state layer's `Users` is the one
 * the app wires in.
 */
export interface UserRecords {
  get(openid: string): Promise<UserRecord | undefined>;
  /**
   * Merges fields into the record, creating it if needed; returns the new record. Shortly after
   * the user's unsubscribe nothing is written, so a write racing the purge cannot undo it.
   */
  update(openid: string, patch: Partial<UserRecord>, options?: WriteOptions): Promise<UserRecord>;
  /** Deletes everything held about the user. */
  delete(openid: string): Promise<void>;
}

/** Options of a write to a user's record. */
export interface WriteOptions {
  /**
   * The user's own new interaction (a new follow, a web page they opened): written even just
   * after an unsubscribe, whose purge it follows rather than races.
   */
  revive?: boolean;
}

/** The current user's record, bound to the push's OpenID. A new follow's writes revive it. */
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
  /** Sets the passive reply; a later call replaces an earlier one. */
  reply(reply: Reply): void;
  /** The reply set so far. */
  readonly response: NormalReply | undefined;
  /** True when this push is a retry answered from the dedupe record: no plugin after dedupe ran. */
  duplicate: boolean;
}

/**
 * Builds the context of one push. A class rather than an object literal: V8 makes a literal with
 * getters (log, response) through a slow runtime path, 3 µs more per push, compiled (BENCHMARKS.md).
 * Its methods are bound, so `const { reply } = ctx` works. The logger is made on first use, since
 * most pushes log nothing.
 */
export function createContext<E extends WechatEvent>(event: E, log: Logger, users: UserRecords): Context<E> {
  return new PushContext(event, log, users);
}

class PushContext<E extends WechatEvent> implements Context<E> {
  duplicate = false;
  readonly user: UserHandle;
  #response: NormalReply | undefined;
  #log: Logger | undefined;

  constructor(
    readonly event: E,
    private readonly parentLog: Logger,
    users: UserRecords,
  ) {
    this.user = new BoundUser(users, event.from, event.type === 'subscribe');
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

const REVIVE: WriteOptions = { revive: true };
const NO_OPTIONS: WriteOptions = {};

// The user handle of a push: the record of the push's OpenID.
class BoundUser implements UserHandle {
  constructor(
    private readonly users: UserRecords,
    private readonly openid: string,
    private readonly newFollow: boolean,
  ) {
    this.get = this.get.bind(this);
    this.update = this.update.bind(this);
  }

  get(): Promise<UserRecord | undefined> {
    return this.users.get(this.openid);
  }

  update(patch: Partial<UserRecord>): Promise<UserRecord> {
    return this.users.update(this.openid, patch, this.newFollow ? REVIVE : NO_OPTIONS);
  }
}
