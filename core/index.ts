/** The framework's public API (`wechat-mp-bot`): import from here in bot.config.ts and in plugins. */
export { Bot, BotError, type BotOptions, type KernelServices, type Middleware } from './kernel/bot.ts';
export { actionNameOf, QR_LIMITS, type CampaignCode, type QrActionName } from './protocol/qr-codes.ts';
export {
  ConfigError,
  defineConfig,
  resolveConfig,
  type BotConfig,
  type BotContext,
  type BotServices,
  type CampaignConfig,
  type CampaignFlavor,
  type CampaignNamesOf,
  type Plugin,
  type ResolvedConfig,
} from './config/bot-config.ts';
export type { Context, UserHandle, UserRecord, UserRecords } from './kernel/context.ts';
export { WechatCrypto, CryptoError, aesKeyFrom } from './protocol/crypto.ts';
export { dedupeKeyOf, EVENT_TYPES, toEvent, type EventOf, type EventType, type WechatEvent } from './protocol/events.ts';
export { answer, click, on, type Answer, type ClickMiddleware, type ContextOf, type Handler } from './kernel/filters.ts';
export { createLogger, maskId, type Logger } from './kernel/log.ts';
export { validateMenu, type ClickKeysOf, type Menu, type MenuAction, type MenuButton } from './protocol/menu.ts';
export {
  isFileReply,
  normalizeReply,
  renderReply,
  type Article,
  type FileReply,
  type NormalReply,
  type Reply,
  type SendableReply,
} from './protocol/reply.ts';
export { sign, signatureMatches } from './protocol/signature.ts';
export { openStore } from './state/open-store.ts';
export type { Store } from './state/store.ts';
export { wechatRouter, type TransportOptions, type WechatRoutes } from './koa/transport.ts';
export { Users } from './state/users.ts';
export {
  WechatApi,
  ApiError,
  type ApiFlavor,
  ApiArgumentError,
  customMessageOf,
  type ApiOptions,
  type CustomMessage,
  type QrCode,
  type MatchRule,
  type ConditionalMenuInfo,
  type TemplateMessage,
  type SubscribeMessage,
  DownloadedFile,
} from './api/client.ts';
export type { FollowerInfo, UserApi } from './api/users.ts';
export { TAG_LIMITS, type Tag, type TagApi, type BlacklistApi } from './api/tags.ts';
export { MEDIA_LIFETIME_S, type MediaApi, type MediaType, type UploadedMedia } from './api/media.ts';
export type { ConditionalMenuConfig, MatchRuleConfig } from './protocol/conditional-menu.ts';
export { CampaignTagger } from './features/campaign-tags.ts';
export { MediaFiles, type MediaFilesOptions } from './features/media-files.ts';
export { qrPng, qrSvg, type QrImageOptions } from './api/qr-image.ts';
export { Scenes, type CreatedScene, type SceneContext, type SceneHandler, type SceneHit } from './features/scenes.ts';
export { Logins, type LoginOptions, type LoginStatus } from './features/logins.ts';
export { Invites, type InviteFollow, type InviteOptions } from './features/invites.ts';
export { WebAuth, WebAuthError, type OauthOptions, type OauthScope, type WechatUser } from './features/web-auth.ts';
export { jssdkConfig, jssdkSignature, type JssdkConfig } from './protocol/jssdk.ts';
export {
  campaignSeries,
  campaignStats,
  campaignTags,
  clickRouter,
  dedupe,
  fileReplies,
  defaultPlugins,
  fallback,
  sceneCampaign,
  unsubscribePurge,
  welcome,
  type CampaignSeries,
  type CampaignStats,
  type DedupeOptions,
  type DefaultPluginsOptions,
  type FileRepliesOptions,
} from '../plugins/index.ts';
export { syncOnce, syncPlugin, type SyncOptions, type SyncReport, type SyncTarget } from '../plugins/sync.ts';
