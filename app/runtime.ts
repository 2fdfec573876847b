import { WechatApi } from '../core/api/client.ts';
import type { ResolvedConfig } from '../core/config/bot-config.ts';
import type { Logger } from '../core/kernel/log.ts';
import { type Store } from '../core/state/store.ts';
import { openStore } from '../core/state/open-store.ts';
import { WechatEmulator } from './emulator.ts';
import { loadConfig } from './load-config.ts';
import { prometheusMetrics, type PrometheusMetrics } from './metrics.ts';
import type { Settings } from './settings.ts';

/** The secret the emulator accepts: not a secret, there is no account. */
export const EMULATOR_SECRET = 'emulator-secret';

/** What the app and the command-line tools run on. */
export interface Runtime {
  config: ResolvedConfig;
  store: Store;
  api: WechatApi;
  /** The in-process emulator, in emulator mode. */
  emulator: WechatEmulator | undefined;
  /** What /metrics shows: the store's and the API's counts are made here, the pushes' in the app. */
  metrics: PrometheusMetrics;
  close(): Promise<void>;
}

/**
 * Loads the config, opens the store and connects the API client: to WeChat, or in emulator
 * mode (no WECHAT_APPID) to an emulator started in this process on 127.0.0.1.
 * @example
 * const runtime = await startRuntime(readSettings(), log)
 */
export async function startRuntime(settings: Settings, log: Logger): Promise<Runtime> {
  const config = await loadConfig(settings.configFile);
  const metrics = prometheusMetrics();
  const store = await openStore(settings.store, {
    log,
    namespace: settings.storePrefix,
    onError: (op) => metrics.metrics.storeError(op),
  });
  let emulator: WechatEmulator | undefined;
  let base = settings.apiBase;
  let closeEmulator = async () => {};
  if (settings.emulator) {
    emulator = new WechatEmulator({ appId: settings.appId, secret: EMULATOR_SECRET });
    const served = await emulator.listen();
    base = served.url;
    closeEmulator = served.close;
  }
  if (!settings.emulator && settings.store.startsWith('memory') && [...config.campaigns.values()].some((c) => c.permanent)) {
    log.warn(
      "BOT_STORE=memory:// with a real account: the store forgets the permanent codes it created, so every restart creates them again and uses up the account's 100,000 for ever. Use sqlite:// or redis://.",
    );
  }
  // In emulator mode the emulator plays open.weixin.qq.com's authorize page and mp.weixin.qq.com's
  // showqrcode too.
  const api = new WechatApi({
    appId: settings.appId,
    secret: settings.secret ?? EMULATOR_SECRET,
    base,
    ...(settings.emulator ? { authorizeBase: base, qrImageBase: base } : {}),
    store,
    log,
    metrics: metrics.metrics,
  });
  return {
    config,
    store,
    api,
    emulator,
    metrics,
    close: async () => {
      await closeEmulator();
      await store.close();
    },
  };
}
