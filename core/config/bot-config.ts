import type { ApiFlavor, WechatApi } from '../api/client.ts';
import type { Plugin as KernelPlugin } from '../kernel/bot.ts';
import type { Logger } from '../kernel/log.ts';
import type { Scenes } from '../features/scenes.ts';
import type { Store } from '../state/store.ts';
import type { Users } from '../state/users.ts';
import type { OauthOptions, WebAuth } from '../features/web-auth.ts';
import type { CampaignCode } from '../protocol/qr-codes.ts';
import { DYNAMIC_SCENE_PREFIX, validateCampaignCode } from '../protocol/qr-codes.ts';
import type { Context } from '../kernel/context.ts';
import type { Answer, ClickMiddleware, ContextOf } from '../kernel/filters.ts';
import { clickKeysIn, validateMenu, type ClickKeysOf, type ConfigIssue, type Menu } from '../protocol/menu.ts';
import type { Invites, InviteOptions } from '../features/invites.ts';
import type { LoginOptions, Logins } from '../features/logins.ts';
import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { MEDIA_LIMITS } from '../api/media.ts';
import { isFileReply, normalizeReply, ReplyError, type NormalReply } from '../protocol/reply.ts';
import { TAGS_PER_ACCOUNT, validateConditionalMenu, validateTagName, type ConditionalMenuConfig } from '../protocol/conditional-menu.ts';

/** What the campaign plugin adds to the context: `name` is one of the config's campaign names. */
export interface CampaignFlavor<N extends string = string> {
  /** The campaign whose code the user scanned, on `subscribe` and `scan`. */
  campaign?: { readonly name: N; readonly newFollower: boolean };
}

/** What the app adds to the context when it talks to WeChat: run-time codes. */
export interface RuntimeCodesFlavor {
  /** Referral invites: `await ctx.invites?.codeFor(ctx.event.from)`. */
  invites?: Invites;
  /** Follow-to-login codes. */
  logins?: Logins;
}

/** The context handlers in bot.config.ts receive; `N`, the config's campaign names. */
export type BotContext<N extends string = string> = Context & CampaignFlavor<N> & RuntimeCodesFlavor & ApiFlavor;

/**
 * Everything the app makes once and hands to every plugin's `init`: the one copy of each service.
 * `api`, and the run-time codes that need it, are undefined when the bot has no WeChat API.
 */
export interface BotServices {
  readonly config: ResolvedConfig;
  readonly store: Store;
  readonly users: Users;
  readonly log: Logger;
  readonly api: WechatApi | undefined;
  readonly scenes: Scenes | undefined;
  readonly logins: Logins | undefined;
  readonly invites: Invites | undefined;
  readonly webAuth: WebAuth | undefined;
}

/**
 * A bot's plugin: its middleware sees a {@link BotContext}, its `init` receives the {@link BotServices}.
 * @example
 * const hello = (): Plugin => ({ name: 'hello', middleware: on('text', () => '你好') })
 * const counter = (): Plugin => ({ name: 'counter', init: ({ store }) => void store.get('n') })
 */
export type Plugin<C extends BotContext = BotContext> = KernelPlugin<C, BotServices>;

/** What a click key answers with. */
export type ClickAnswer<N extends string = string> = Answer<ContextOf<'click', BotContext<N>>>;

/**
 * A parametric-QR campaign: its code and what the bot answers.
 * @example
 * { scene: 'spring-poster', permanent: true, welcome: '欢迎来自春季海报的你', scan: '你已关注，感谢再次扫码' }
 */
export type CampaignConfig<N extends string = string> = CampaignCode & {
  /** What a new follower who came through this code gets, instead of the default welcome. */
  readonly welcome?: Answer<ContextOf<'subscribe', BotContext<N>>>;
  /** What a follower who scans the code again gets. */
  readonly scan?: Answer<ContextOf<'scan', BotContext<N>>>;
  /** Free text for people: where the code is printed. */
  readonly description?: string;
  /**
   * A WeChat tag (用户标签) put on every user the code brings, by follow or by scan: the account's
   * console can filter and mass-send by it, and a conditional menu can be shown to it.
   */
  readonly tag?: string;
};

/**
 * Everything a bot author edits. Menu keys and campaign names become literal types.
 * @example
 * export default defineConfig({ welcome: '欢迎', menu: { button: [{ type: 'click', name: '新闻', key: 'NEWS' }] }, clicks: { NEWS: '今日新闻…' } })
 */
export interface BotConfig<M extends Menu = Menu, N extends string = string> {
  /** The default reply to a follow. */
  readonly welcome?: Answer<ContextOf<'subscribe', BotContext<N>>>;
  /** The custom menu, in WeChat's JSON shape. */
  readonly menu?: M;
  /** Parametric QR campaigns by name; their names are the type of `ctx.campaign.name`. */
  readonly campaigns?: { readonly [K in N]: CampaignConfig<N> };
  /**
   * Conditional menus (个性化菜单) by name, each shown instead of `menu` to the followers its
   * matchrule picks; `matchrule.tag` names a tag (created if missing).
   */
  readonly conditionalMenus?: { readonly [name: string]: ConditionalMenuConfig };
  /**
   * An answer for every `click` key of the menu: a missing key is a compile error, and an answer
   * for a key no button has (a misspelt one) stops the start. The index signature gives handlers
   * their context type before the menu's keys are inferred.
   */
  readonly clicks?: { readonly [key: string]: ClickAnswer<N> } & { readonly [K in ClickKeysOf<M>]: ClickAnswer<N> };
  /** What to answer when nothing else did (text messages, unknown keys); nothing by default. */
  readonly fallback?: Answer<BotContext<N>>;
  /** The author's own plugins, run after the built-in ones. */
  readonly plugins?: readonly Plugin[];
  /** Follow-to-login: the reply a scanner gets, the codes' lifetime. */
  readonly login?: LoginOptions;
  /** Referral invites: the codes' lifetime, what happens when someone follows through one. */
  readonly invites?: InviteOptions;
  /** Web authorization for the pages behind the menu: the hosts a page may be sent back to. */
  readonly oauth?: OauthOptions;
}

/**
 * Declares the bot's config. It returns its argument; it exists for the types.
 * @example
 * export default defineConfig({ welcome: '欢迎关注' })
 */
export function defineConfig<const M extends Menu = { button: [] }, const N extends string = never>(
  config: BotConfig<M, N>,
): BotConfig<M, N> {
  return config;
}

/** The names of a config's campaigns, as a union of literal types. */
export type CampaignNamesOf<T> = T extends BotConfig<Menu, infer N> ? N : never;

/** A checked config: every field present. */
export interface ResolvedConfig {
  readonly welcome: Answer<ContextOf<'subscribe', BotContext>> | undefined;
  readonly menu: Menu | undefined;
  readonly campaigns: ReadonlyMap<string, CampaignConfig>;
  readonly conditionalMenus: ReadonlyMap<string, ConditionalMenuConfig>;
  /** Every tag the config names (campaigns' and matchrules'), each once. */
  readonly tags: readonly string[];
  /** The replies from files the config holds as they are (not from handlers): uploaded at start. */
  readonly fileReplies: readonly NormalReply[];
  /** Campaign name by scene, as the scene arrives in EventKey (a decimal string for scene_id). */
  readonly scenes: ReadonlyMap<string, string>;
  readonly clicks: ReadonlyMap<string, ClickAnswer>;
  readonly fallback: Answer<BotContext> | undefined;
  readonly plugins: readonly Plugin[];
  readonly login: LoginOptions;
  readonly invites: InviteOptions;
  readonly oauth: OauthOptions;
}

/** Thrown at start for a config WeChat would refuse; lists every problem with its path. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(`bot config is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

/**
 * Validates a config against WeChat's limits and resolves it; throws ConfigError naming each path.
 * @example
 * resolveConfig(config).scenes.get('spring') // 'springPoster'
 */
export function resolveConfig(config: BotConfig<Menu, string>): ResolvedConfig {
  const issues: ConfigIssue[] = [];
  const fileReplies: NormalReply[] = [];
  const checkAnswer = (given: unknown, path: string, found: ConfigIssue[]) => checkReply(given, path, found, fileReplies);
  checkAnswer(config.welcome, 'welcome', issues);
  checkAnswer(config.fallback, 'fallback', issues);
  if (config.menu !== undefined) issues.push(...validateMenu(config.menu));

  const campaigns = new Map<string, CampaignConfig>();
  const scenes = new Map<string, string>();
  for (const [name, campaign] of Object.entries<CampaignConfig>(config.campaigns ?? {})) {
    const at = `campaigns.${name}`;
    if (typeof campaign !== 'object' || campaign === null) {
      issues.push({ path: at, message: 'must be a campaign object' });
      continue;
    }
    issues.push(...validateCampaignCode(campaign, at));
    if (typeof campaign.scene === 'string' && campaign.scene.startsWith(DYNAMIC_SCENE_PREFIX)) {
      issues.push({ path: `${at}.scene`, message: `must not start with ${DYNAMIC_SCENE_PREFIX} (kept for codes made at run time)` });
    }
    checkAnswer(campaign.welcome, `${at}.welcome`, issues);
    checkAnswer(campaign.scan, `${at}.scan`, issues);
    if (campaign.tag !== undefined) issues.push(...validateTagName(campaign.tag, `${at}.tag`));
    const scene = String(campaign.scene);
    const taken = scenes.get(scene);
    if (taken) issues.push({ path: `${at}.scene`, message: `scene ${JSON.stringify(scene)} is already used by campaigns.${taken}` });
    else scenes.set(scene, name);
    campaigns.set(name, campaign);
  }

  const conditionalMenus = new Map(Object.entries<ConditionalMenuConfig>(config.conditionalMenus ?? {}));
  for (const [name, menu] of conditionalMenus) issues.push(...validateConditionalMenu(menu, `conditionalMenus.${name}`));
  if (conditionalMenus.size > 0 && config.menu === undefined)
    issues.push({
      path: 'conditionalMenus',
      message: 'needs a menu: WeChat shows a conditional menu only on an account with a default one (65303)',
    });
  const tags = [
    ...new Set([
      ...[...campaigns.values()].flatMap((c) => (typeof c.tag === 'string' ? [c.tag] : [])),
      ...[...conditionalMenus.values()].flatMap((m) => (typeof m?.matchrule?.tag === 'string' ? [m.matchrule.tag] : [])),
    ]),
  ];
  if (tags.length > TAGS_PER_ACCOUNT) issues.push({ path: 'campaigns', message: `names ${tags.length} tags; an account has at most 100` });

  const clicks = new Map(Object.entries<ClickAnswer>(config.clicks ?? {}));
  for (const [key, given] of clicks) checkAnswer(given, `clicks.${key}`, issues);
  if (config.menu !== undefined && issues.length === 0) {
    // A click key of any menu, default or conditional, needs its answer.
    const keys = clickKeysIn(config.menu);
    for (const [name, menu] of conditionalMenus) clickKeysIn(menu, `conditionalMenus.${name}`, keys);
    for (const [key, path] of keys) {
      if (!clicks.has(key)) issues.push({ path: `${path}.key`, message: `click key ${JSON.stringify(key)} has no answer in clicks` });
    }
    // An answer no button can reach is a misspelt key, or a button since removed.
    for (const key of clicks.keys()) {
      if (!keys.has(key)) issues.push({ path: `clicks.${key}`, message: `no click button of the menu has the key ${JSON.stringify(key)}` });
    }
    (config.plugins ?? []).forEach((plugin, i) => {
      const key = (plugin?.middleware as Partial<ClickMiddleware> | undefined)?.clickKey;
      if (key !== undefined && !keys.has(key)) {
        issues.push({
          path: `plugins[${i}].middleware`,
          message: `click(${JSON.stringify(key)}): no click button of the menu has this key`,
        });
      }
    });
  }
  const plugins = config.plugins ?? [];
  plugins.forEach((plugin, i) => {
    if (typeof plugin?.name !== 'string') issues.push({ path: `plugins[${i}]`, message: 'a plugin needs a name' });
  });
  checkOauth(config.oauth, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    welcome: config.welcome,
    menu: config.menu,
    campaigns,
    conditionalMenus,
    tags,
    fileReplies,
    scenes,
    clicks,
    fallback: config.fallback,
    plugins,
    login: config.login ?? {},
    invites: config.invites ?? {},
    oauth: config.oauth ?? {},
  };
}

// A host name as WeChat's authorize page and a browser take it: no scheme, no path, no port.
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function checkOauth(oauth: unknown, issues: ConfigIssue[]): void {
  if (oauth === undefined) return;
  const hosts = (oauth as OauthOptions | null)?.redirectHosts;
  if (typeof oauth !== 'object' || oauth === null || (hosts !== undefined && !Array.isArray(hosts))) {
    return void issues.push({ path: 'oauth', message: "must be { redirectHosts: ['shop.example.com', …] }" });
  }
  (hosts ?? []).forEach((host: unknown, i: number) => {
    if (typeof host !== 'string' || !HOST.test(host)) {
      issues.push({
        path: `oauth.redirectHosts[${i}]`,
        message: `must be a host name such as shop.example.com (no scheme, path or port), got ${JSON.stringify(host)}`,
      });
    }
  });
}

// A reply given as it is: valid, and a file it names there and of a type WeChat takes.
function checkReply(given: unknown, path: string, issues: ConfigIssue[], fileReplies: NormalReply[]): void {
  if (given === undefined || typeof given === 'function') return;
  let reply: NormalReply | undefined;
  try {
    reply = normalizeReply(given as Parameters<typeof normalizeReply>[0]);
  } catch (error) {
    return void issues.push({ path, message: error instanceof ReplyError ? error.message : 'is not a reply' });
  }
  if (!reply || !isFileReply(reply)) return;
  const [field, file, type] = 'thumbFile' in reply ? ['thumbFile', reply.thumbFile, 'thumb' as const] : ['file', reply.file, reply.type];
  const { extensions, maxBytes } = MEDIA_LIMITS[type];
  const at = `${path}.${field}`;
  const size = statSync(resolve(file), { throwIfNoEntry: false })?.size;
  if (!extensions.includes(extname(file).slice(1).toLowerCase()))
    issues.push({ path: at, message: `WeChat takes a ${type} as ${extensions.join(', ')}; got ${JSON.stringify(file)}` });
  else if (size === undefined) issues.push({ path: at, message: `no such file: ${resolve(file)}` });
  else if (size > maxBytes)
    issues.push({ path: at, message: `a ${type} is at most ${maxBytes / 1024} KB for WeChat; ${file} is ${Math.ceil(size / 1024)} KB` });
  else fileReplies.push(reply);
}
