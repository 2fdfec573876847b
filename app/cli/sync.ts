// npm run sync [-- --dry-run] [-- --retry-uncertain]: applies bot.config.ts to the account once, or
// prints what would change. --retry-uncertain creates permanent codes whose creation was interrupted.
import { parseArgs } from 'node:util';
import { createLogger } from '../../core/kernel/log.ts';
import { syncOnce } from '../../plugins/sync.ts';
import { startRuntime } from '../runtime.ts';
import { loadDotEnv, readSettings } from '../settings.ts';

const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean' }, 'retry-uncertain': { type: 'boolean' } } });
const dryRun = values['dry-run'] ?? false;
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });

try {
  loadDotEnv();
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
    for (const error of report.errors) console.error(`error: ${error}`);
    for (const warning of report.warnings) console.error(`warning: ${warning}`);
    process.exitCode = report.errors.length > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
