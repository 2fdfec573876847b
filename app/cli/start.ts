// wechat-mp-bot start: runs the bot until SIGTERM or SIGINT.
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../core/config/bot-config.ts';
import { createLogger } from '../../core/kernel/log.ts';
import { CryptoError } from '../../core/protocol/crypto.ts';
import { StoreConfigError } from '../../core/state/store.ts';
import { startRuntime } from '../runtime.ts';
import { createHttpServer, HTTP_LIMITS } from '../http-server.ts';
import { createApp } from '../server.ts';
import { loadDotEnv, readSettings, SettingsError } from '../settings.ts';
import { readArgs } from './args.ts';
import { listenForMetrics } from './metrics-port.ts';
import { superviseWorkers } from './workers.ts';

export const USAGE = `usage: wechat-mp-bot start
Runs the bot: the callback at /wechat on PORT (3000). Without WECHAT_APPID it runs offline against
the built-in WeChat emulator, on 127.0.0.1. BOT_WORKERS=N (or auto) runs N processes on the port.
Settings come from the environment and .env.
options:
  -h, --help   this text`;

// What the author or the operator must change: said in plain words, without a stack.
const SETUP_ERRORS = [SettingsError, ConfigError, StoreConfigError, CryptoError];

/** Starts the bot; the process runs until a signal stops it (exit 0) or the start fails (exit 1). */
export async function startCommand(argv: string[]): Promise<number> {
  readArgs(argv, { usage: USAGE });
  loadDotEnv(); // first: LOG_LEVEL and LOG_FORMAT may come from .env
  const log = createLogger();
  try {
    const settings = readSettings();
    if (settings.workers > 1 && cluster.isPrimary) return await superviseWorkers(settings.workers, log, settings.metricsPort);
    await start(log);
  } catch (error) {
    if (SETUP_ERRORS.some((kind) => error instanceof kind)) console.error(`cannot start: ${(error as Error).message}`);
    else log.fatal({ err: error }, `start failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  return new Promise<number>(() => {}); // the server runs until a signal ends the process
}

async function start(log: ReturnType<typeof createLogger>): Promise<void> {
  const settings = readSettings();
  const runtime = await startRuntime(settings, log);
  if (runtime.emulator) {
    log.warn(
      `EMULATOR MODE: no WECHAT_APPID is set, so the bot runs offline against the built-in WeChat emulator (API calls never leave this machine). Token: "${settings.token}". Set WECHAT_APPID, WECHAT_SECRET and WECHAT_TOKEN to serve a real account.`,
    );
  }
  // A start that fails here (a malformed EncodingAESKey) closes what already runs, so the process ends.
  const { app, bot, drain } = await createApp({
    settings,
    config: runtime.config,
    store: runtime.store,
    log,
    api: runtime.api,
    metrics: runtime.metrics,
    ...(runtime.emulator ? { emulator: runtime.emulator } : {}),
  }).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  // Behind a proxy every connection comes from the proxy: no cap per address.
  const limits = { ...HTTP_LIMITS, ...(settings.trustProxy ? { maxConnectionsPerAddress: undefined } : {}) };
  const server: Server = createHttpServer(app, limits).listen(settings.port, settings.host, () => {
    const port = (server.address() as AddressInfo).port;
    // Every interface: localhost is one way to reach it. An IPv6 address goes in brackets.
    const host = !settings.host ? 'localhost' : settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    log.info(
      {
        host: settings.host ?? 'every interface',
        port,
        mode: settings.mode,
        store: settings.store.split('://')[0],
        campaigns: runtime.config.campaigns.size,
      },
      `bot listening on http://${host}:${port}/wechat`,
    );
    if (runtime.emulator || settings.consoleToken) log.info(`console: http://${host}:${port}/console`);
    if (runtime.emulator) log.info(`demo login page: http://${host}:${port}/demo/login`);
  });
  server.on('error', (error) => {
    log.fatal({ err: error }, `cannot listen on ${settings.host ?? 'every interface'}, port ${settings.port}`);
    process.exit(1);
  });
  // With workers, the primary serves METRICS_PORT for all of them (app/cli/workers.ts).
  const metricsServer =
    settings.metricsPort !== undefined && cluster.isPrimary
      ? await listenForMetrics(settings.metricsPort, runtime.metrics.text, log)
      : undefined;
  // Graceful shutdown: stop accepting, let in-flight pushes (and their late replies) finish within
  // WeChat's window, stop background work, close the store (flushing it), exit 0.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight pushes');
    metricsServer?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 5000);
    try {
      await closed;
      clearTimeout(force);
      await drain(5000);
      await bot.close();
      await runtime.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
