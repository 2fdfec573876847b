// Shared fixtures: events, signed pushes, a server on 127.0.0.1, a store, a quiet logger.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { createHttpServer, HTTP_LIMITS, type HttpLimits } from '../app/http-server.ts';
import { createApp, type AppOptions } from '../app/server.ts';
import { resolveConfig, type BotConfig, type BotContext, type BotServices } from '../core/config/bot-config.ts';
import { WechatCrypto } from '../core/protocol/crypto.ts';
import type { EventOf, EventType } from '../core/protocol/events.ts';
import { createLogger, type Logger } from '../core/kernel/log.ts';
import type { Metrics } from '../core/kernel/metrics.ts';
import type { NormalReply } from '../core/protocol/reply.ts';
import { sign } from '../core/protocol/signature.ts';
import { type Store } from '../core/state/store.ts';
import { openStore } from '../core/state/open-store.ts';
import { parseXml, cdata, type XmlObject } from '../core/protocol/xml.ts';
import type { Menu } from '../core/protocol/menu.ts';
import type { WechatApi } from '../core/api/client.ts';
import type { EmulatorOptions, WechatEmulator } from '../app/emulator.ts';

export const TOKEN = 'testtoken';
export const APPID = 'wx2c2769f8efd9abc2';
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const ACCOUNT = 'gh_10f6c3c3ac5a';

/** A logger that keeps its lines in memory, so tests can read what was logged. */
export function memoryLogger(): { log: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination, format: 'json' });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let sequence = 0;
/**
 * Waits for the next minute when this one is about to end, so a test of a per-minute limit runs
 * inside one window.
 */
export async function withinOneMinute(marginMs = 5000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/**
 * How long WeChat waits for an answer before it gives up on it and retries: the one wall-clock
 * bound the tests keep as it is, since it is the guarantee itself.
 */
export const WECHAT_WAITS_MS = 5000;

/** A fresh OpenID-like id. */
export function openid(): string {
  return `oTest${process.pid}x${++sequence}${Math.random().toString(36).slice(2, 10)}`;
}

/** A typed event with the common fields filled in. */
export function event<T extends EventType>(
  type: T,
  fields: Omit<EventOf<T>, 'type' | 'from' | 'to' | 'createTime'> & { from?: string; createTime?: number },
): EventOf<T> {
  return { to: ACCOUNT, from: openid(), createTime: 1_700_000_000 + ++sequence, ...fields, type } as unknown as EventOf<T>;
}

/** The XML WeChat would push for the given fields (all as CDATA or numbers). */
export function pushXml(fields: Record<string, string | number>): string {
  const body = Object.entries(fields)
    .map(([name, value]) => `<${name}>${typeof value === 'number' ? value : cdata(value)}</${name}>`)
    .join('');
  return `<xml>${body}</xml>`;
}

/** Fields of an event push from a user. */
export function eventFields(from: string, eventName: string, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    ToUserName: ACCOUNT,
    FromUserName: from,
    CreateTime: Math.floor(Date.now() / 1000) + ++sequence,
    MsgType: 'event',
    Event: eventName,
    ...extra,
  };
}

/** The query WeChat signs a push with. */
export function signedQuery(token = TOKEN, extra: Record<string, string> = {}): URLSearchParams {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(Math.floor(Math.random() * 1e9));
  return new URLSearchParams({ signature: sign(token, timestamp, nonce), timestamp, nonce, openid: 'o', ...extra });
}

/** Wraps a push as WeChat does in safe mode: the encrypted body and its query. */
export function sealPush(xml: string, crypto = testCrypto()): { body: string; query: URLSearchParams } {
  const query = signedQuery();
  const encrypt = crypto.encrypt(xml);
  query.set('encrypt_type', 'aes');
  query.set('msg_signature', crypto.signature(query.get('timestamp')!, query.get('nonce')!, encrypt));
  return { body: `<xml><ToUserName>${cdata(ACCOUNT)}</ToUserName><Encrypt>${cdata(encrypt)}</Encrypt></xml>`, query };
}

export function testCrypto(): WechatCrypto {
  return new WechatCrypto({ token: TOKEN, appId: APPID, encodingAESKeys: [AES_KEY] });
}

/** A config using every feature, for the plugin and HTTP tests. */
export const testMenu = {
  button: [
    { type: 'click', name: '今日', key: 'TODAY' },
    {
      name: '更多',
      sub_button: [
        { type: 'click', name: '慢', key: 'SLOW' },
        { type: 'view', name: '官网', url: 'https://example.com/' },
      ],
    },
  ],
} as const satisfies Menu;

export function testConfig(overrides: Partial<BotConfig> = {}): BotConfig {
  return {
    welcome: 'default welcome',
    menu: testMenu,
    clicks: {
      TODAY: 'today reply',
      SLOW: async () => {
        await new Promise((resolve) => setTimeout(resolve, 10_000).unref());
        return 'slow reply';
      },
    },
    campaigns: {
      poster: { scene: 'poster', expireSeconds: 86_400, welcome: 'poster welcome', scan: 'poster scan' },
      door: { scene: 1001, permanent: true, welcome: (ctx) => `door welcome ${ctx.campaign?.name}` },
    },
    ...overrides,
  };
}

export interface TestServer {
  url: string;
  store: Store;
  log: ReturnType<typeof memoryLogger>;
  late: { ctx: BotContext; reply: NormalReply }[];
  bot: Awaited<ReturnType<typeof createApp>>['bot'];
  sync: Awaited<ReturnType<typeof createApp>>['sync'];
  invites: Awaited<ReturnType<typeof createApp>>['invites'];
  logins: Awaited<ReturnType<typeof createApp>>['logins'];
  /** POSTs a plaintext push, signed: its fields, or a whole XML document. */
  push(fields: Record<string, string | number> | string): Promise<Response>;
  /** POSTs a push in safe mode: its fields, or a whole XML document. */
  pushAes(fields: Record<string, string | number> | string): Promise<Response>;
}

const documentOf = (fields: Record<string, string | number> | string) => (typeof fields === 'string' ? fields : pushXml(fields));

/** Starts the app on 127.0.0.1 (random port); the test stops it at its end. */
export async function startServer(
  t: ExecutionContext,
  options: {
    config?: BotConfig;
    aes?: boolean;
    deadlineMs?: number;
    store?: Store;
    api?: WechatApi;
    sync?: AppOptions['sync'];
    lateHook?: boolean;
    /** BOT_API_TOKEN: enables the HTTP API for websites. */
    apiToken?: string;
    /** Emulator mode, with this emulator: the demo login page, the console's phone. */
    emulator?: WechatEmulator;
    /** BOT_CONSOLE_TOKEN: the console against a real account. */
    consoleToken?: string;
    /** WECHAT_MAX_SKEW_S; 0 for WeChat's 2014 sample. */
    maxSkewS?: number;
    /** WECHAT_MODE. */
    mode?: 'compatible' | 'safe';
    /** BOT_TRUST_PROXY: X-Forwarded-* headers are believed. */
    trustProxy?: boolean;
    /** BOT_PUBLIC_URL. */
    publicUrl?: string;
    /** BOT_METRICS_TOKEN. */
    metricsToken?: string;
    /** Where the app counts pushes (and the test's store and API, when they were given it). */
    metrics?: AppOptions['metrics'];
    /** The HTTP server's limits, `npm start`'s by default. */
    limits?: Partial<HttpLimits>;
    /** Options of the built-in plugins. */
    plugins?: AppOptions['plugins'];
  } = {},
): Promise<TestServer> {
  const log = memoryLogger();
  const store = options.store ?? (await openStore('memory://', { log: log.log }));
  const late: TestServer['late'] = [];
  const appOptions: AppOptions = {
    settings: {
      token: TOKEN,
      appId: APPID,
      aesKeys: options.aes ? [AES_KEY] : [],
      deadlineMs: options.deadlineMs ?? 4500,
      apiToken: options.apiToken,
      emulator: Boolean(options.emulator),
      consoleToken: options.consoleToken,
      ...(options.maxSkewS !== undefined ? { maxSkewS: options.maxSkewS } : {}),
      ...(options.mode ? { mode: options.mode } : {}),
      trustProxy: Boolean(options.trustProxy),
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
      ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    },
    ...(options.emulator ? { emulator: options.emulator } : {}),
    config: resolveConfig(options.config ?? testConfig()),
    store,
    log: log.log,
    ...(options.api ? { api: options.api } : {}),
    ...(options.sync ? { sync: options.sync } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    // By default the test records late replies; lateHook: false keeps the app's own (custom/send).
    ...(options.lateHook === false ? {} : { onLateReply: (ctx: BotContext, reply: NormalReply) => void late.push({ ctx, reply }) }),
  };
  const { app, bot, sync, invites, logins } = await createApp(appOptions);
  const server: Server = await new Promise((resolve) => {
    const s = createHttpServer(app, { ...HTTP_LIMITS, ...options.limits }).listen(0, '127.0.0.1', () => resolve(s));
  });
  t.teardown(async () => {
    await bot.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    if (!options.store) await store.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechat`;
  return {
    url,
    store,
    log,
    late,
    bot,
    sync,
    invites,
    logins,
    push: (fields) =>
      fetch(`${url}?${signedQuery()}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: documentOf(fields) }),
    pushAes: (fields) => {
      const sealed = sealPush(documentOf(fields));
      return fetch(`${url}?${sealed.query}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: sealed.body });
    },
  };
}

/** Reads a reply: 'success', or the reply XML's fields (decrypted in safe mode). */
export async function readReply(response: Response): Promise<'success' | XmlObject> {
  const text = await response.text();
  if (text === 'success') return 'success';
  const xml = await parseXml(text);
  if (typeof xml.Encrypt !== 'string') return xml;
  return parseXml(testCrypto().decrypt(xml.Encrypt).xml);
}

/** A bot with the default chain on a memory store, driven without HTTP. */
export async function makeBot(t: ExecutionContext, config: BotConfig = testConfig(), store?: Store) {
  const { Bot } = await import('../core/kernel/bot.ts');
  const { defaultPlugins } = await import('../plugins/index.ts');
  const log = memoryLogger();
  const ownStore = store ?? (await openStore('memory://', { log: log.log }));
  if (!store) t.teardown(() => ownStore.close());
  const { createServices } = await import('../app/services.ts');
  const services = createServices({ config: resolveConfig(config), store: ownStore, log: log.log });
  const bot = new Bot<BotContext, BotServices>({ services, plugins: defaultPlugins(services.config.plugins) });
  await bot.init();
  return { bot, store: ownStore, log };
}

/** An emulator on 127.0.0.1 and an API client talking to it; both stopped at the test's end. */
export async function startEmulator(
  t: ExecutionContext,
  options: {
    store?: Store;
    tokenMode?: 'stable' | 'classic';
    timeoutMs?: number;
    busyRetryMs?: number[];
    metrics?: Metrics;
    /** The emulator refuses OpenIDs and media_ids it never saw, as WeChat does; by default any is taken. */
    strict?: boolean;
    emulator?: Omit<EmulatorOptions, 'appId' | 'secret' | 'strict'>;
  } = {},
) {
  const { WechatEmulator } = await import('../app/emulator.ts');
  const { WechatApi } = await import('../core/api/client.ts');
  const emulator = new WechatEmulator({ appId: APPID, secret: 'test-secret', strict: options.strict ?? false, ...options.emulator });
  const served = await emulator.listen();
  t.teardown(served.close);
  const log = memoryLogger();
  const store = options.store ?? (await openStore('memory://', { log: log.log }));
  if (!options.store) t.teardown(() => store.close());
  const makeApi = (overrides: { secret?: string; base?: string } = {}) =>
    new WechatApi({
      appId: APPID,
      secret: overrides.secret ?? 'test-secret',
      base: overrides.base ?? served.url,
      authorizeBase: served.url, // the emulator plays open.weixin.qq.com too
      store,
      log: log.log,
      busyRetryMs: options.busyRetryMs ?? [10, 20, 40],
      ...(options.tokenMode ? { tokenMode: options.tokenMode } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  return { emulator, url: served.url, store, log, api: makeApi(), makeApi };
}

/** A SQLite store in a temporary folder, closed and removed at the test's end. */
export async function sqliteStore(t: ExecutionContext): Promise<Store> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'bot-test-'));
  const store = await openStore(`sqlite://${join(dir, 'bot.sqlite')}`, { log: memoryLogger().log });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

/**
 * Runs what `npm start` runs (or another command of the bin), as its own process (so signals reach
 * it), in the repository or another folder; killed at the test's end.
 */
export function runApp(t: ExecutionContext, env: NodeJS.ProcessEnv, options: { command?: string; args?: string[]; cwd?: string } = {}) {
  // By absolute paths, so that any working folder will do.
  const tsx = import.meta.resolve('tsx');
  const bin = new URL('../app/cli/bin.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', tsx, bin, options.command ?? 'start', ...(options.args ?? [])], {
    cwd: options.cwd ?? new URL('..', import.meta.url).pathname,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  t.teardown(() => void child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  /** Waits until the output matches, and returns the match. */
  const until = async (pattern: RegExp, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!pattern.test(output) && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    if (!pattern.test(output)) throw new Error(`never logged ${pattern}:\n${output}`);
    return pattern.exec(output)!;
  };
  return { child, exited, until, output: () => output };
}

/**
 * Sends requests all at once: every connection is opened first, then every request written in one
 * turn of the loop, so the server reads them together (fetch from the same process staggers them
 * enough for a check-then-count race to go unseen). Returns each response's status.
 */
export async function burst(
  url: string,
  requests: { method: string; headers: Record<string, string>; body?: string }[],
): Promise<number[]> {
  const { connect } = await import('node:net');
  const { host, port, pathname, search } = new URL(url);
  const sockets = await Promise.all(
    requests.map(
      () =>
        new Promise<import('node:net').Socket>((resolve, reject) => {
          const socket = connect({ host: host.split(':')[0], port: Number(port) }, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  const answers = sockets.map(
    (socket) =>
      new Promise<number>((resolve) => {
        let head = '';
        socket.on('data', (chunk) => {
          head += chunk;
          const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
          if (status) {
            resolve(Number(status[1]));
            socket.destroy();
          }
        });
        socket.on('close', () => resolve(0));
      }),
  );
  requests.forEach(({ method, headers, body = '' }, i) => {
    const lines = Object.entries({ host, connection: 'close', 'content-length': String(Buffer.byteLength(body)), ...headers });
    sockets[i]!.write(`${method} ${pathname}${search} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
  });
  return Promise.all(answers);
}
