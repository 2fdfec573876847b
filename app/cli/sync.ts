// wechat-mp-bot sync [--dry-run] [--retry-uncertain]: applies bot.config.ts to the account once, or
// prints what would change. --retry-uncertain creates permanent codes whose creation was interrupted.
import { readArgs } from './args.ts';
import { createLogger } from '../../core/kernel/log.ts';
import { syncOnce } from '../../plugins/sync.ts';
import { startRuntime } from '../runtime.ts';
import { loadDotEnv, readSettings } from '../settings.ts';

export const USAGE = `usage: wechat-mp-bot sync [options]
Applies the config's menu, campaigns, tags and conditional menus to the account once, and prints what it did.
options:
  --dry-run           print what would change, touching nothing
  --retry-uncertain   create permanent codes whose creation was interrupted (after checking the account)
  -h, --help          this text`;

/** Runs the sync once; exit status 1 when it reported errors. */
export async function syncCommand(argv: string[]): Promise<number> {
  const { values } = readArgs(argv, { usage: USAGE, options: { 'dry-run': { type: 'boolean' }, 'retry-uncertain': { type: 'boolean' } } });
  const dryRun = values['dry-run'] ?? false;
  loadDotEnv(); // first: LOG_LEVEL and LOG_FORMAT may come from .env
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const settings = readSettings();
  const runtime = await startRuntime(settings, log);
  if (runtime.emulator) console.log('emulator mode (no WECHAT_APPID): syncing against an emulator started for this command');
  try {
    const report = await syncOnce({ api: runtime.api, config: runtime.config }, runtime.store, log, {
      dryRun,
      retryUncertain: values['retry-uncertain'] ?? false,
    });
    console.log(dryRun ? 'dry run: nothing was changed' : 'sync done');
    console.log(`menu: ${report.menu}`);
    for (const c of report.campaigns) {
      console.log(`campaign ${c.name}: ${c.action}${c.expiresAt ? ` (expires ${new Date(c.expiresAt).toISOString()})` : ''}`);
    }
    for (const tag of report.tags) console.log(`tag ${tag.name}: ${tag.action}`);
    for (const menu of report.conditionalMenus) console.log(`conditional menu ${menu.name}: ${menu.action}`);
    for (const error of report.errors) console.error(`error: ${error}`);
    for (const warning of report.warnings) console.error(`warning: ${warning}`);
    return report.errors.length > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}
