// npm run qr -- [campaign…] [--out qr] [--size 1024]: writes each campaign's code as PNG and SVG.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../core/kernel/log.ts';
import { qrPng, qrSvg } from '../../core/api/qr-image.ts';
import { createCampaignCode, creationState, readQrRecord } from '../../core/api/qr-records.ts';
import { startRuntime } from '../runtime.ts';
import { loadDotEnv, readSettings } from '../settings.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, size: { type: 'string' } } });
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });

try {
  loadDotEnv();
  const runtime = await startRuntime(readSettings(), log);
  try {
    if (runtime.emulator) console.log('emulator mode (no WECHAT_APPID): codes come from an emulator started for this command');
    const names = positionals.length > 0 ? positionals : [...runtime.config.campaigns.keys()];
    const out = values.out ?? 'qr';
    const size = Number(values.size ?? 1024);
    if (!Number.isInteger(size) || size < 128 || size > 8192) throw new Error('--size is a width in pixels, 128 to 8192');
    mkdirSync(out, { recursive: true });
    for (const name of names) {
      const campaign = runtime.config.campaigns.get(name);
      if (!campaign) throw new Error(`no campaign ${name} in the config; there are: ${[...runtime.config.campaigns.keys()].join(', ')}`);
      let record = await readQrRecord(runtime.store, campaign);
      if (!record) {
        if ((await creationState(runtime.store, campaign)) !== 'none') {
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
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
