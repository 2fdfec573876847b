import { createContext, type Context, type UserRecords } from './context.ts';
import type { WechatEvent } from '../protocol/events.ts';
import type { Logger } from './log.ts';
import type { NormalReply } from '../protocol/reply.ts';

const DONE = Promise.resolve();
const nothing = () => undefined;

// Whether a middleware called next(), and the promise that call returned.
type Step = { called: Promise<void> | undefined };

/** A plugin's middleware: the onion model of Koa. Call `next()` to run the rest of the chain. */
export type Middleware<C extends Context = Context> = (ctx: C, next: () => Promise<void>) => unknown;

/**
 * The services the kernel itself needs; whoever wires the bot adds its own (the store, the API
 * client, the config), and every plugin's `init` receives them all, the same object.
 */
export interface KernelServices {
  readonly log: Logger;
  readonly users: UserRecords;
}

/** The parts of a plugin; a {@link Plugin} has a name and at least one of the others. */
export interface PluginParts<C extends Context = Context, S extends KernelServices = KernelServices> {
  readonly name: string;
  /** Runs once before the first push, with the bot's services; may start background work, must not block long. */
  init?(services: S): void | Promise<void>;
  readonly middleware?: Middleware<C>;
  /**
   * The plugin runs before the push is admitted (its nonce checked against replays), in the same
   * turn of the loop as that check, so that their store calls share one round trip. It may only
   * claim the push: the plugins after it wait for the admission, and its `next()` rejects with
   * {@link NotAdmitted} when the push is refused. Only leading plugins may say so (dedupe).
   */
  readonly beforeAdmission?: boolean;
  /** Stops the plugin's background work (timers, connections) at shutdown. */
  close?(): void | Promise<void>;
}

/**
 * A plugin, made by a factory taking its own options: a name, and a middleware, an init or a
 * close. The services it needs come to `init`. A bare middleware (`on(…)`) is not one, and does
 * not compile where a plugin is expected: a function has a `name` too, and would otherwise pass
 * for a plugin that never runs.
 * @example
 * const hello = (): Plugin => ({ name: 'hello', middleware: (ctx, next) => (ctx.reply('hi'), next()) })
 * const bot = new Bot({ services: { log, users }, plugins: [hello()] })
 */
export type Plugin<C extends Context = Context, S extends KernelServices = KernelServices> = PluginParts<C, S> &
  ({ readonly middleware: Middleware<C> } | { init(services: S): void | Promise<void> } | { close(): void | Promise<void> });

/** An error thrown by a plugin while handling a push. */
export class BotError extends Error {
  override name = 'BotError';
  readonly plugin: string;
  readonly ctx: Context;
  constructor(error: unknown, plugin: string, ctx: Context) {
    super(`plugin ${plugin} failed on ${ctx.event.type}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    this.plugin = plugin;
    this.ctx = ctx;
  }
}

/** What `next()` rejects with, in a plugin that runs before admission, when the push was refused. */
export class NotAdmitted extends Error {
  override name = 'NotAdmitted';
  constructor() {
    super('the push was not admitted: its nonce was used with another body');
  }
}

/** Options of {@link Bot}. */
export interface BotOptions<C extends Context = Context, S extends KernelServices = KernelServices> {
  /** Handed to every plugin's init; the kernel itself uses the logger and the user records. */
  services: S;
  plugins?: readonly Plugin<C, S>[];
  /** Adds the app's flavors (services) to each new context. */
  decorate?(ctx: C): void;
  /** Called for every plugin error; logs it by default. */
  onError?(error: BotError): void;
}

/**
 * Runs each push through the plugin chain. Testable without HTTP.
 * @example
 * const bot = new Bot({ services: { log, users }, plugins: [hello()] })
 * const reply = await bot.handle(event) // the passive reply, or undefined for "success"
 */
export class Bot<C extends Context = Context, S extends KernelServices = KernelServices> {
  readonly services: S;
  readonly users: UserRecords;
  readonly log: Logger;
  readonly #plugins: Plugin<C, S>[] = [];
  readonly #failedInit = new Set<Plugin<C, S>>();
  readonly #onError: (error: BotError) => void;
  readonly #decorate: ((ctx: C) => void) | undefined;
  #chain: Plugin<C, S>[] | undefined;

  constructor(options: BotOptions<C, S>) {
    this.services = options.services;
    this.users = options.services.users;
    this.log = options.services.log;
    this.#decorate = options.decorate;
    this.#onError =
      options.onError ??
      ((error) => this.log.error({ err: error.cause, plugin: error.plugin, event: error.ctx.event.type }, error.message));
    for (const plugin of options.plugins ?? []) this.use(plugin);
  }

  /** Appends a plugin to the chain (before the first push). */
  use(plugin: Plugin<C, S>): this {
    if (this.#chain) throw new Error(`plugin ${plugin.name} added after the bot started handling pushes`);
    // The types refuse these; JavaScript (or a cast) still may not pass them silently.
    if (typeof plugin === 'function') {
      throw new TypeError(
        `a bare middleware (${(plugin as Function).name || 'anonymous'}) was given as a plugin: pass { name, middleware } instead`,
      );
    }
    if (!plugin.middleware && !plugin.init && !plugin.close) {
      throw new TypeError(`plugin ${plugin.name ?? '(no name)'} has none of middleware, init or close: it would never run`);
    }
    this.#plugins.push(plugin);
    return this;
  }

  /** The plugins, in chain order. */
  get plugins(): readonly Plugin<C, S>[] {
    return this.#plugins;
  }

  /** Runs every plugin's init. A plugin whose init fails is logged and left out of the chain. */
  async init(): Promise<void> {
    for (const plugin of this.#plugins) {
      try {
        await plugin.init?.(this.services);
      } catch (error) {
        this.#failedInit.add(plugin);
        this.log.error({ err: error, plugin: plugin.name }, `plugin ${plugin.name} failed to start and is disabled`);
      }
    }
  }

  /** Stops every plugin's background work; the store is the caller's to close. */
  async close(): Promise<void> {
    for (const plugin of this.#plugins) {
      try {
        await plugin.close?.();
      } catch (error) {
        this.log.error({ err: error, plugin: plugin.name }, `plugin ${plugin.name} failed to stop`);
      }
    }
  }

  /** Makes the context of a push, for callers that need it before the chain ends (the transport). */
  context(event: WechatEvent): C {
    const ctx = createContext(event, this.log, this.users) as C;
    this.#decorate?.(ctx);
    return ctx;
  }

  /**
   * Runs the chain on a context. Never rejects: plugin errors go to onError. With an admission
   * (the transport's replay check, still in flight), the leading plugins that may run before it do,
   * and the rest of the chain waits for it; a refused push runs no further.
   */
  run(ctx: C, admission?: Promise<boolean>): Promise<void> {
    const chain = (this.#chain ??= this.#plugins.filter((plugin) => plugin.middleware && !this.#failedInit.has(plugin)));
    if (!admission) return this.#dispatch(chain, 0, ctx);
    return this.#dispatch(chain, 0, ctx, admission).catch((error: unknown) => {
      if (!(error instanceof NotAdmitted)) throw error;
    });
  }

  // Each plugin's failure is its own: it is reported, and the rest of the chain still runs. A
  // middleware that answers without awaiting costs no promise of its own: most pass a push on.
  #dispatch(chain: readonly Plugin<C, S>[], index: number, ctx: C, admission?: Promise<boolean>): Promise<void> {
    const plugin = chain[index];
    if (!plugin) return DONE;
    if (admission && !plugin.beforeAdmission) {
      // An admission that fails refuses the push: nothing past the claim runs on an unchecked nonce.
      const refuse = () => Promise.reject(new NotAdmitted());
      return admission.then((admitted) => (admitted ? this.#dispatch(chain, index, ctx) : refuse()), refuse);
    }
    const step: Step = { called: undefined };
    const next = () => {
      if (step.called) return Promise.reject(new Error('next() called multiple times'));
      return (step.called = this.#dispatch(chain, index + 1, ctx, admission));
    };
    let result: unknown;
    try {
      result = plugin.middleware!(ctx, next);
    } catch (error) {
      if (error instanceof NotAdmitted) return Promise.reject(error);
      this.#report(error, plugin, ctx);
      return step.called ? DONE : next();
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') return DONE;
    // A plugin that passes the push on returns the rest of the chain's promise, which reports its
    // own errors and never rejects: there is nothing of this plugin's left to catch.
    if (result === step.called) return result as Promise<void>;
    return Promise.resolve(result).then(nothing, (error: unknown) => {
      if (error instanceof NotAdmitted) throw error; // the push was refused: nothing to report, nothing more to run
      this.#report(error, plugin, ctx);
      return step.called ? undefined : next();
    });
  }

  /**
   * Handles one push and returns its passive reply (undefined: answer "success").
   * @example
   * await bot.handle({ type: 'click', key: 'MENU_NEWS', from: 'o…', to: 'gh_…', createTime: 1700000000 })
   */
  async handle(event: WechatEvent): Promise<NormalReply | undefined> {
    const ctx = this.context(event);
    await this.run(ctx);
    return ctx.response;
  }

  #report(error: unknown, plugin: Plugin<C, S>, ctx: C): void {
    try {
      this.#onError(new BotError(error, plugin.name, ctx));
    } catch (hookError) {
      this.log.error({ err: hookError }, 'onError itself failed');
    }
  }
}
