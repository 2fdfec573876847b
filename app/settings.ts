import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** The bot's settings, from the environment (and a .env file). */
export interface Settings {
  port: number;
  /** HOST: the address to listen on; 127.0.0.1 in emulator mode, every interface (undefined) otherwise. */
  host: string | undefined;
  token: string;
  /** The account's appid, or the emulator's when WECHAT_APPID is not set. */
  appId: string;
  secret: string | undefined;
  /** EncodingAESKeys: the current one, then the previous one while rotating. */
  aesKeys: string[];
  /**
   * WECHAT_MODE: `plaintext` (no key), `compatible` (the default with a key: plaintext and encrypted
   * pushes both answered) or `safe` (plaintext pushes refused, once the account is in safe mode).
   */
  mode: WechatMode;
  /** WECHAT_MAX_SKEW_S: a push's timestamp may be this far from now (300); 0 turns the check off. */
  maxSkewS: number;
  apiBase: string;
  store: string;
  /** Prefix of every store key, so two bots can share one Redis server. */
  storePrefix: string;
  configFile: string;
  deadlineMs: number;
  /** BOT_API_TOKEN: the bearer token of the HTTP API for websites (follow-to-login); unset: no API. */
  apiToken: string | undefined;
  /** BOT_CONSOLE_TOKEN: against a real account, the console exists only with it (read-only). */
  consoleToken: string | undefined;
  /** True when WECHAT_APPID is not set: no account, the built-in emulator stands in. */
  emulator: boolean;
  /** BOT_TRUST_PROXY: behind a reverse proxy, X-Forwarded-Proto/-Host/-For are believed (Secure cookies, client addresses). */
  trustProxy: boolean;
  /** BOT_WORKERS: processes serving the one port (1; `auto`: one per core), sharing the store. */
  workers: number;
  /** BOT_PUBLIC_URL: the https origin WeChat knows the bot by, for web authorization's redirect. */
  publicUrl: string | undefined;
  /** BOT_METRICS_TOKEN: the bearer token of GET /metrics; unset: /metrics answers 404. */
  metricsToken: string | undefined;
  /** METRICS_PORT: also serve /metrics, without a token, on 127.0.0.1 at this port. */
  metricsPort: number | undefined;
}

/** How the account's pushes arrive: the message mode of the account console. */
export type WechatMode = 'plaintext' | 'compatible' | 'safe';

/** Thrown for settings the bot cannot start with. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** The Token the emulator mode uses when WECHAT_TOKEN is not set: not a secret, there is no account. */
export const EMULATOR_TOKEN = 'emulator-token';
/** The appid the emulator plays. */
export const EMULATOR_APPID = 'wx00000000emulator';

/**
 * Reads the settings from an environment, loading `.env` into process.env first when asked.
 * @example
 * const settings = readSettings(process.env)
 */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const appId = env.WECHAT_APPID || undefined;
  const emulator = appId === undefined;
  const token = env.WECHAT_TOKEN || (emulator ? EMULATOR_TOKEN : '');
  if (!token) throw new SettingsError('WECHAT_TOKEN is not set: use the Token from the account console (3 to 32 letters and digits)');
  if (!/^[A-Za-z0-9]{3,32}$/.test(token) && token !== EMULATOR_TOKEN) {
    throw new SettingsError('WECHAT_TOKEN must be 3 to 32 letters and digits, as the account console requires');
  }
  if (!emulator && !env.WECHAT_SECRET) throw new SettingsError('WECHAT_SECRET is not set: use the AppSecret of the account');
  const port = Number(env.PORT || 3000);
  if (!isPort(port)) throw new SettingsError(`PORT must be a port number, got ${env.PORT}`);
  const deadlineMs = Number(env.BOT_DEADLINE_MS || 4500);
  if (!(deadlineMs > 0 && deadlineMs < 5000)) throw new SettingsError('BOT_DEADLINE_MS must be between 0 and 5000 (WeChat waits 5 s)');
  const aesKeys = [env.WECHAT_AES_KEY, env.WECHAT_AES_KEY_PREVIOUS].filter((k): k is string => Boolean(k));
  const mode = env.WECHAT_MODE || (aesKeys.length > 0 ? 'compatible' : 'plaintext');
  if (mode !== 'plaintext' && mode !== 'compatible' && mode !== 'safe') {
    throw new SettingsError(`WECHAT_MODE must be plaintext, compatible or safe, got ${mode}`);
  }
  if (mode !== 'plaintext' && !env.WECHAT_AES_KEY) throw new SettingsError(`WECHAT_MODE=${mode} needs WECHAT_AES_KEY, the EncodingAESKey`);
  if (mode === 'plaintext' && aesKeys.length > 0)
    throw new SettingsError('WECHAT_MODE=plaintext, but WECHAT_AES_KEY is set: use compatible or safe');
  const maxSkewS = Number(env.WECHAT_MAX_SKEW_S || 300);
  if (!Number.isInteger(maxSkewS) || maxSkewS < 0) {
    throw new SettingsError(`WECHAT_MAX_SKEW_S must be a whole number of seconds (0 turns the check off), got ${env.WECHAT_MAX_SKEW_S}`);
  }
  const trustProxy = (env.BOT_TRUST_PROXY || 'false').toLowerCase();
  if (!['1', 'true', '0', 'false'].includes(trustProxy))
    throw new SettingsError('BOT_TRUST_PROXY must be 1 or true (behind a reverse proxy), 0 or false');
  for (const name of ['BOT_CONSOLE_TOKEN', 'BOT_API_TOKEN', 'BOT_METRICS_TOKEN'] as const) {
    // A password for the network: short ones are guessed even at ten tries a minute.
    const value = env[name];
    if (value && value.length < 16) {
      throw new SettingsError(`${name} must be at least 16 characters (it has ${value.length}): e.g. openssl rand -base64 24`);
    }
  }
  const store = env.BOT_STORE || 'sqlite://data/bot.sqlite';
  const workers = env.BOT_WORKERS === 'auto' ? availableParallelism() : Number(env.BOT_WORKERS || 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new SettingsError(`BOT_WORKERS must be a number of processes from 1 to 64, or auto, got ${env.BOT_WORKERS}`);
  if (workers > 1 && store.startsWith('memory'))
    throw new SettingsError("BOT_WORKERS above 1 needs a store the workers share (sqlite:// or redis://): memory:// is each process's own");
  const publicUrl = env.BOT_PUBLIC_URL ? publicOriginOf(env.BOT_PUBLIC_URL, emulator) : undefined;
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : undefined;
  if (metricsPort !== undefined && !(isPort(metricsPort) && (metricsPort !== port || port === 0))) {
    throw new SettingsError(`METRICS_PORT must be a port number other than PORT, got ${env.METRICS_PORT}`);
  }
  return {
    port,
    // The emulator's console simulates users without a login: it stays on this machine.
    host: env.HOST || (emulator ? '127.0.0.1' : undefined),
    token,
    appId: appId ?? EMULATOR_APPID,
    secret: env.WECHAT_SECRET || undefined,
    aesKeys,
    mode,
    maxSkewS,
    apiBase: (env.WECHAT_API_BASE || 'https://api.weixin.qq.com').replace(/\/+$/, ''),
    store,
    storePrefix: env.BOT_STORE_PREFIX || `wxbot:${appId ?? EMULATOR_APPID}`,
    configFile: env.BOT_CONFIG || './bot.config.ts',
    deadlineMs,
    apiToken: env.BOT_API_TOKEN || undefined,
    consoleToken: env.BOT_CONSOLE_TOKEN || undefined,
    emulator,
    trustProxy: trustProxy === '1' || trustProxy === 'true',
    workers,
    publicUrl,
    metricsToken: env.BOT_METRICS_TOKEN || undefined,
    metricsPort,
  };
}

// An origin: https (http only in emulator mode, on this machine), no path, no query.
function publicOriginOf(value: string, emulator: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(`BOT_PUBLIC_URL must be the bot's origin, as https://bot.example.com, got ${value}`);
  }
  if (
    (url.protocol !== 'https:' && !(emulator && url.protocol === 'http:')) ||
    url.pathname.replace(/\/+$/, '') !== '' ||
    url.search ||
    url.hash
  ) {
    throw new SettingsError(`BOT_PUBLIC_URL must be the bot's https origin, as https://bot.example.com (no path), got ${value}`);
  }
  return url.origin;
}

/** A TCP port to listen on: 0 (any free one) to 65535. */
export function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 65535;
}

/** Loads `.env` from the working directory into process.env, if there is one; set variables win. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
