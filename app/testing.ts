/**
 * `wechat-mp-bot/testing`: a bot as `npm start` builds it, driven without HTTP, on a memory store
 * and the built-in emulator (on 127.0.0.1, for the sync and the codes), for an author's own tests.
 */
import { resolveConfig, type BotConfig } from '../core/config/bot-config.ts';
import type { NormalReply } from '../core/protocol/reply.ts';
import type { EventOf, EventType, WechatEvent } from '../core/protocol/events.ts';
import { createLogger } from '../core/kernel/log.ts';
import { WechatApi } from '../core/api/client.ts';
import { type Store } from '../core/state/store.ts';
import { openStore } from '../core/state/open-store.ts';
import { WechatEmulator } from './emulator.ts';
import { createApp } from './server.ts';

/** Options of {@link testBot}. */
export interface TestBotOptions {
  /** The OpenID of the user the shortcuts act as; each test bot has a fresh one by default. */
  user?: string;
  /** The log level of the bot under test: `silent` by default, so a test prints nothing. */
  logLevel?: string;
}

/** Fields of an event, without those the test bot fills in (from, to, createTime). */
export type EventFields<T extends EventType> = Omit<EventOf<T>, 'type' | 'from' | 'to' | 'createTime'> & { from?: string };

/** A bot under test, and what it runs on. */
export interface TestBot {
  /** The bot: `bot.handle(event)` is what every shortcut below calls. */
  bot: Awaited<ReturnType<typeof createApp>>['bot'];
  store: Store;
  /** The emulator standing in for WeChat's API: its `menu`, `qrcodes`, `customMessages`, `calls`. */
  emulator: WechatEmulator;
  api: WechatApi;
  /** The OpenID the shortcuts act as. */
  user: string;
  /** Handles one push of the given type; resolves to the passive reply, or undefined (`success`). */
  send<T extends EventType>(type: T, fields: EventFields<T>): Promise<NormalReply | undefined>;
  /** The user follows, through a campaign's code when a scene is given. */
  subscribe(scene?: string | number): Promise<NormalReply | undefined>;
  /** The user, a follower, scans a campaign's code. */
  scan(scene: string | number): Promise<NormalReply | undefined>;
  /** The user taps a menu click button. */
  click(key: string): Promise<NormalReply | undefined>;
  /** The user sends a text message. */
  text(text: string): Promise<NormalReply | undefined>;
  /** The user unfollows. */
  unsubscribe(): Promise<NormalReply | undefined>;
  /** Stops the bot, the emulator and the store. */
  close(): Promise<void>;
}

let users = 0;
let messages = 0;

/**
 * Starts a bot from a config, with the start-up sync done against the emulator.
 * @example
 * const bot = await testBot(config); t.teardown(bot.close)
 * t.like(await bot.click('TODAY'), { type: 'text' })
 */
export async function testBot(config: BotConfig, options: TestBotOptions = {}): Promise<TestBot> {
  const log = createLogger({ level: options.logLevel ?? 'silent', format: 'json' });
  const appId = 'wx00000000testing';
  const secret = 'testing-secret';
  const emulator = new WechatEmulator({ appId, secret });
  const served = await emulator.listen();
  const store = await openStore('memory://', { log });
  const api = new WechatApi({ appId, secret, base: served.url, store, log });
  const stop = async () => {
    await store.close();
    await served.close();
  };
  // A config that does not resolve must not leave the emulator listening: the test could not end.
  const built = await Promise.resolve()
    .then(() =>
      createApp({
        settings: { token: 'testing', appId, aesKeys: [], deadlineMs: 4500, emulator: true },
        emulator,
        config: resolveConfig(config),
        store,
        log,
        api,
      }),
    )
    .catch(async (error: unknown) => {
      await stop();
      throw error;
    });
  await built.sync?.firstPass;
  const user = options.user ?? `oTestUser${process.pid}x${++users}`;
  let createTime = Math.floor(Date.now() / 1000);
  const send = <T extends EventType>(type: T, fields: EventFields<T>) =>
    built.bot.handle({ to: 'gh_testing', from: user, createTime: ++createTime, ...fields, type } as unknown as WechatEvent);
  const scene = (value: string | number) => String(value);
  return {
    bot: built.bot,
    store,
    emulator,
    api,
    user,
    send,
    subscribe: (value) => send('subscribe', value === undefined ? {} : { scene: scene(value), ticket: 'testing-ticket' }),
    scan: (value) => send('scan', { scene: scene(value), ticket: 'testing-ticket' }),
    click: (key) => send('click', { key }),
    text: (text) => send('text', { text, msgId: String(++messages) }),
    unsubscribe: () => send('unsubscribe', {}),
    close: async () => {
      await built.bot.close();
      await stop();
    },
  };
}
