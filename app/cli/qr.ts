// wechat-mp-bot qr [campaign…] [--out qr] [--size 1024]: writes each campaign's code as PNG and SVG.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArgs, UsageError } from './args.ts';
import { createLogger } from '../../core/kernel/log.ts';
import { qrPng, qrSvg } from '../../core/api/qr-image.ts';
import { createCampaignCode, creationState, readQrRecord } from '../../core/api/qr-records.ts';
import { startRuntime } from '../runtime.ts';
import { loadDotEnv, readSettings } from '../settings.ts';

export const USAGE = `usage: wechat-mp-bot qr [campaign…] [options]
Writes each campaign's code (all of them without names) as <campaign>.png and .svg, creating the
code first if the sync has not.
options:
  --out <folder>   where to write (default qr)
  --size <pixels>  width of the PNG, 128 to 8192 (default 1024)
  -h, --help       this text`;

/** Writes the campaigns' codes as images. */
export async function qrCommand(argv: string[]): Promise<number> {
  const { values, positionals } = readArgs(argv, {
    usage: USAGE,
    positionals: true,
    options: { out: { type: 'string' }, size: { type: 'string' } },
  });
  const size = Number(values.size ?? 1024);
  if (!Number.isInteger(size) || size < 128 || size > 8192) throw new UsageError('--size is a width in pixels, 128 to 8192');
  loadDotEnv(); // first: LOG_LEVEL and LOG_FORMAT may come from .env
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const runtime = await startRuntime(readSettings(), log);
  try {
    if (runtime.emulator) console.log('emulator mode (no WECHAT_APPID): codes come from an emulator started for this command');
    const names = positionals.length > 0 ? positionals : [...runtime.config.campaigns.keys()];
    const out = values.out ?? 'qr';
    mkdirSync(out, { recursive: true });
    for (const name of names) {
      const campaign = runtime.config.campaigns.get(name);
      if (!campaign) throw new Error(`no campaign ${name} in the config; there are: ${[...runtime.config.campaigns.keys()].join(', ')}`);
      let record = await readQrRecord(runtime.store, campaign);
      if (!record) {
        if ((await creationState(runtime.store, campaign)).state !== 'none') {
          throw new Error(`${name}: creating its permanent code was interrupted; check, then run npm run sync -- --retry-uncertain`);
        }
        record = await createCampaignCode(runtime.api, runtime.store, campaign);
        console.log(`${name}: created its code (scene ${campaign.scene})`);
      }
      writeFileSync(join(out, `${name}.png`), await qrPng(record.url, { size }));
      writeFileSync(join(out, `${name}.svg`), await qrSvg(record.url));
      const expiry = record.expiresAt ? `expires ${new Date(record.expiresAt).toISOString()}` : 'permanent';
      console.log(
        `${name}: ${join(out, `${name}.png`)} ${join(out, `${name}.svg`)} (${expiry}; WeChat's image: ${runtime.api.qrImageUrl(record.ticket)})`,
      );
    }
  } finally {
    await runtime.close();
  }
  return 0;
}
