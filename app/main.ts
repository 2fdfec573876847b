import type { Server } from 'node:http';
import { createLogger } from '../core/log.ts';
import { openStore } from '../core/store.ts';
import { loadConfig } from './load-config.ts';
import { createApp } from './server.ts';
import { loadDotEnv, readSettings } from './settings.ts';

const log = createLogger();

try {
  loadDotEnv();
  const settings = readSettings();
  const config = await loadConfig(settings.configFile);
  const store = await openStore(settings.store, { log });
  const { app } = await createApp({ settings, config, store, log });
  const server: Server = app.listen(settings.port, () => {
    if (settings.emulator) {
      log.warn(
        `no WECHAT_APPID: running offline in emulator mode with the Token "${settings.token}"; set WECHAT_APPID, WECHAT_SECRET and WECHAT_TOKEN to serve a real account`,
      );
    }
    log.info(
      {
        port: settings.port,
        mode: settings.aesKeys.length > 0 ? 'safe (AES)' : 'plaintext',
        store: settings.store.split('://')[0],
        campaigns: config.campaigns.size,
      },
      `bot listening on http://localhost:${settings.port}/wechat`,
    );
  });
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close(() => {
      void store.close().finally(() => process.exit(0));
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
