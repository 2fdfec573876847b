import type { WechatApi } from '../core/api/client.ts';
import type { BotServices, ResolvedConfig } from '../core/config/bot-config.ts';
import { Invites } from '../core/features/invites.ts';
import { Logins } from '../core/features/logins.ts';
import { Scenes } from '../core/features/scenes.ts';
import { WebAuth } from '../core/features/web-auth.ts';
import type { Logger } from '../core/kernel/log.ts';
import type { Store } from '../core/state/store.ts';
import { Users } from '../core/state/users.ts';

/** What {@link createServices} builds the services from. */
export interface ServicesOptions {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  api?: WechatApi | undefined;
}

/**
 * Makes each service of a bot once: every plugin's init gets these same ones. One Users, so the
 * bot and the features share its per-user write queue. Run-time codes need WeChat's API.
 * @example
 * const services = createServices({ config, store, log, api })
 * new Bot({ services, plugins: defaultPlugins(config.plugins) })
 */
export function createServices({ config, store, log, api }: ServicesOptions): BotServices {
  const users = new Users(store);
  const scenes = api ? new Scenes({ api, store, users }) : undefined;
  const logins = scenes ? new Logins({ ...config.login, scenes, store, users }) : undefined;
  const invites = scenes ? new Invites({ ...config.invites, scenes, store, users }) : undefined;
  const webAuth = api ? new WebAuth({ ...config.oauth, api, store, users }) : undefined;
  return { config, store, users, log, api, scenes, logins, invites, webAuth };
}
