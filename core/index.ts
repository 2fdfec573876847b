/** The framework's public API (`wechat-mp-bot`): import from here in bot.config.ts and in plugins. */
export { Bot, BotError, type BotOptions, type Middleware, type Plugin, type PluginInit } from './kernel/bot.ts';
export { actionNameOf, QR_LIMITS, type CampaignCode, type QrActionName } from './config/campaigns.ts';
export {
  ConfigError,
  defineConfig,
  resolveConfig,
  type BotConfig,
  type BotContext,
  type CampaignConfig,
  type CampaignFlavor,
  type CampaignNamesOf,
  type ResolvedConfig,
} from './config/bot-config.ts';
export type { Context, UserHandle } from './kernel/context.ts';
export { WechatCrypto, CryptoError, aesKeyFrom } from './protocol/crypto.ts';
export { dedupeKeyOf, EVENT_TYPES, toEvent, type EventOf, type EventType, type WechatEvent } from './protocol/events.ts';
export { answer, click, on, type Answer, type ClickMiddleware, type ContextOf, type Handler } from './kernel/filters.ts';
export { createLogger, maskId, type Logger } from './kernel/log.ts';
export { validateMenu, type ClickKeysOf, type Menu, type MenuAction, type MenuButton } from './config/menu.ts';
export { normalizeReply, renderReply, type Article, type NormalReply, type Reply } from './protocol/reply.ts';
export { sign, signatureMatches } from './protocol/signature.ts';
export { openStore, type Store } from './state/store.ts';
export { wechatRouter, type TransportOptions, type WechatRoutes } from './koa/transport.ts';
export { Users, type UserRecord } from './state/users.ts';
export { WechatApi, ApiError, ApiArgumentError, customMessageOf, type ApiOptions, type CustomMessage, type QrCode } from './api/client.ts';
export { qrPng, qrSvg, type QrImageOptions } from './api/qr-image.ts';
export { Scenes, type CreatedScene, type SceneHandler, type SceneHit } from './features/scenes.ts';
export { Logins, type LoginOptions, type LoginStatus } from './features/logins.ts';
export { Invites, type InviteFollow, type InviteOptions } from './features/invites.ts';
export {
  campaignSeries,
  campaignStats,
  clickRouter,
  dedupe,
  defaultPlugins,
  fallback,
  sceneCampaign,
  unsubscribePurge,
  welcome,
  type CampaignSeries,
  type CampaignStats,
  type DedupeOptions,
  type DefaultPluginsOptions,
} from '../plugins/index.ts';
export { syncOnce, syncPlugin, type SyncOptions, type SyncReport } from '../plugins/sync.ts';
