import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../core/log.ts';
import { startRuntime } from './runtime.ts';
import { createApp } from './server.ts';
import { loadDotEnv, readSettings } from './settings.ts';

const log = createLogger();

try {
  loadDotEnv();
  const settings = readSettings();
  const runtime = await startRuntime(settings, log);
  if (runtime.emulator) {
    log.warn(
      `EMULATOR MODE: no WECHAT_APPID is set, so the bot runs offline against the built-in WeChat emulator (API calls never leave this machine). Token: "${settings.token}". Set WECHAT_APPID, WECHAT_SECRET and WECHAT_TOKEN to serve a real account.`,
    );
  }
  const { app, bot } = await createApp({ settings, config: runtime.config, store: runtime.store, log, api: runtime.api });
  const server: Server = app.listen(settings.port, () => {
    const port = (server.address() as AddressInfo).port;
    log.info(
      {
        port,
        mode: settings.aesKeys.length > 0 ? 'safe (AES)' : 'plaintext',
        store: settings.store.split('://')[0],
        campaigns: runtime.config.campaigns.size,
      },
      `bot listening on http://localhost:${port}/wechat`,
    );
  });
  server.on('error', (error) => {
    log.fatal({ err: error }, `cannot listen on port ${settings.port}`);
    process.exit(1);
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close(() => {
      void bot
        .close()
        .then(() => runtime.close())
        .finally(() => process.exit(0));
    });
    // In-flight pushes have WeChat's 5 s at most; do not wait for idle keep-alive sockets.
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, error instanceof Error ? error.message : 'start failed');
  process.exit(1);
}
