/** The framework's public API: import from here in bot.config.ts and in plugins. */
export { Bot, BotError, type BotOptions, type Middleware, type Plugin, type PluginInit } from './bot.ts';
export { actionNameOf, QR_LIMITS, type CampaignCode, type QrActionName } from './campaigns.ts';
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
} from './config.ts';
export type { Context, UserHandle } from './context.ts';
export { WechatCrypto, CryptoError, aesKeyFrom } from './crypto.ts';
export { dedupeKeyOf, EVENT_TYPES, toEvent, type EventOf, type EventType, type WechatEvent } from './events.ts';
export { answer, click, on, type Answer, type ContextOf, type Handler } from './filters.ts';
export { createLogger, maskId, type Logger } from './log.ts';
export { validateMenu, type ClickKeysOf, type Menu, type MenuAction, type MenuButton } from './menu.ts';
export { normalizeReply, renderReply, type Article, type NormalReply, type Reply } from './reply.ts';
export { sign, signatureMatches } from './signature.ts';
export { openStore, type Store } from './store.ts';
export { wechatRouter, type TransportOptions, type WechatRoutes } from './transport.ts';
export { Users, type UserRecord } from './users.ts';
export { WechatApi, ApiError, ApiArgumentError, customMessageOf, type ApiOptions, type CustomMessage, type QrCode } from './api.ts';
export { qrPng, qrSvg, type QrImageOptions } from './qr-image.ts';
export { Scenes, type CreatedScene, type SceneHandler, type SceneHit } from './scenes.ts';
export { Logins, type LoginOptions, type LoginStatus } from './logins.ts';
export { Invites, type InviteFollow, type InviteOptions } from './invites.ts';
