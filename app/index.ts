/**
 * `wechat-mp-bot/app`: the pieces `wechat-mp-bot start` is made of, to build the bot into an
 * existing Koa app or a process of one's own.
 * @example
 * const runtime = await startRuntime(readSettings(), log)
 * const { app } = await createApp({ settings, config: runtime.config, store: runtime.store, log, api: runtime.api })
 */
export { createApp, type AppOptions } from './server.ts';
export { createHttpServer, HTTP_LIMITS, type HttpLimits } from './http-server.ts';
export { prometheusMetrics, type PrometheusMetrics, type MetricsText } from './metrics.ts';
export { createServices, type ServicesOptions } from './services.ts';
export { oauthRoutes, requireWechatUser, type OauthRoutesOptions } from './oauth-routes.ts';
export { startRuntime, EMULATOR_SECRET, type Runtime } from './runtime.ts';
export { loadDotEnv, readSettings, SettingsError, EMULATOR_APPID, EMULATOR_TOKEN, type Settings, type WechatMode } from './settings.ts';
export { loadConfig, importAuthorFile } from './load-config.ts';
export { WechatEmulator, type EmulatorOptions, type EmulatorCall, type Fault } from './emulator.ts';
export {
  simulate,
  pushesFor,
  parseAction,
  describeReply,
  type SimulatedAction,
  type SimulateOptions,
  type SimulatedReply,
} from './simulator.ts';
