import type { Plugin } from '../../core/kernel/bot.ts';
import type { WechatEvent } from '../../core/protocol/events.ts';
import { maskId } from '../../core/kernel/log.ts';
import type { NormalReply } from '../../core/protocol/reply.ts';

/** One push and its reply, as the console shows it: the OpenID masked. */
export interface LoggedEvent {
  id: number;
  at: number;
  type: string;
  user: string;
  /** The scene, key or URL the push carried. */
  detail?: string;
  reply?: string;
  duplicate: boolean;
}

/**
 * The console's live log: the last pushes and replies, kept in memory, pushed to listeners.
 * @example
 * const events = new EventLog(); bot.use(events.plugin()); events.subscribe((e) => …)
 */
export class EventLog {
  readonly #entries: LoggedEvent[] = [];
  readonly #listeners = new Set<(event: LoggedEvent) => void>();
  readonly #max: number;
  #next = 1;

  constructor(max = 200) {
    this.#max = max;
  }

  get entries(): readonly LoggedEvent[] {
    return this.#entries;
  }

  /** Listens to new entries; returns the function that stops listening. */
  subscribe(listener: (event: LoggedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** An observer at the head of the chain: it sees every push, duplicates included. */
  plugin(): Plugin {
    return {
      name: 'console-event-log',
      middleware: async (ctx, next) => {
        try {
          await next();
        } finally {
          this.#add(ctx.event, ctx.response, ctx.duplicate);
        }
      },
    };
  }

  #add(event: WechatEvent, reply: NormalReply | undefined, duplicate: boolean): void {
    const detail =
      'scene' in event ? event.scene : 'key' in event ? event.key : 'url' in event ? event.url : 'text' in event ? event.text : undefined;
    const entry: LoggedEvent = {
      id: this.#next++,
      at: Date.now(),
      type: event.type,
      user: maskId(event.from),
      ...(detail === undefined ? {} : { detail: String(detail).slice(0, 200) }),
      ...(reply ? { reply: summary(reply) } : {}),
      duplicate,
    };
    this.#entries.push(entry);
    if (this.#entries.length > this.#max) this.#entries.shift();
    for (const listener of this.#listeners) listener(entry);
  }
}

/** A reply in a line. */
export function summary(reply: NormalReply): string {
  switch (reply.type) {
    case 'text':
      return reply.content;
    case 'news':
      return `[news] ${reply.articles[0]?.title ?? ''}`;
    case 'transfer_customer_service':
      return '[transferred to customer service]';
    default:
      return `[${reply.type}]`;
  }
}
