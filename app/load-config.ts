import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, type BotConfig, type ResolvedConfig } from '../core/config/bot-config.ts';

/**
 * Imports a config file (its default export) and validates it.
 * @example
 * const config = await loadConfig('./bot.config.ts')
 */
export async function loadConfig(file: string): Promise<ResolvedConfig> {
  const module = (await importAuthorFile(resolve(file))) as { default?: BotConfig };
  if (!module.default) throw new Error(`${file} has no default export: end it with export default defineConfig({ … })`);
  return resolveConfig(module.default);
}

/**
 * Imports one of the author's files. The framework runs as JavaScript; the author writes
 * TypeScript (bot.config.ts, plugins), which Node 20 cannot import by itself, so tsx is
 * registered, once, before the first such file, and compiles the author's files as they load. The
 * framework's own TypeScript (in its repository, where this file is .ts) already runs under tsx.
 * @example
 * const module = await importAuthorFile('/srv/bot/bot.config.ts')
 */
export async function importAuthorFile(path: string): Promise<unknown> {
  if (/\.[mc]?ts$/.test(path) && !import.meta.url.endsWith('.ts')) await registerTypeScript();
  return import(pathToFileURL(path).href);
}

let registered: Promise<void> | undefined;
function registerTypeScript(): Promise<void> {
  registered ??= import('tsx/esm/api').then(({ register }) => void register());
  return registered;
}
