import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, type BotConfig, type ResolvedConfig } from '../core/config/bot-config.ts';

/**
 * Imports a config file (its default export) and validates it.
 * @example
 * const config = await loadConfig('./bot.config.ts')
 */
export async function loadConfig(file: string): Promise<ResolvedConfig> {
  const module = (await import(pathToFileURL(resolve(file)).href)) as { default?: BotConfig };
  if (!module.default) throw new Error(`${file} has no default export: end it with export default defineConfig({ … })`);
  return resolveConfig(module.default);
}
