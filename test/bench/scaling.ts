// How cost grows with work, in one process driving bot.handle (no HTTP, so the numbers are the
// framework's own): memory over 1,000,000 pushes, purge with 1,000 vs 100,000 users, throughput with
// 1 vs 1,000 click keys and campaigns, start-up sync with 1,000 campaigns. Prints Markdown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { WechatEmulator } from '../../app/emulator.ts';
import { createServices } from '../../app/services.ts';
import { WechatApi } from '../../core/api/client.ts';
import { Bot } from '../../core/kernel/bot.ts';
import { resolveConfig, type BotConfig, type BotContext, type BotServices, type CampaignConfig } from '../../core/config/bot-config.ts';
import type { WechatEvent } from '../../core/protocol/events.ts';
import { createLogger } from '../../core/kernel/log.ts';
import { type Store } from '../../core/state/store.ts';
import { openStore } from '../../core/state/open-store.ts';
import { defaultPlugins } from '../../plugins/index.ts';
import { syncOnce } from '../../plugins/sync.ts';

const quick = process.argv.includes('--quick');
const log = createLogger({ level: 'silent' });
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const dir = mkdtempSync(join(tmpdir(), 'bench-scaling-'));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const out: string[] = [];

async function botWith(config: BotConfig, store: Store): Promise<Bot<BotContext, BotServices>> {
  const services = createServices({ config: resolveConfig(config), store, log });
  const bot = new Bot<BotContext, BotServices>({ services, plugins: defaultPlugins(services.config.plugins) });
  await bot.init();
  return bot;
}
let seq = 0;
const ev = (fields: Record<string, unknown>): WechatEvent =>
  ({ to: 'gh_bench', from: `oScale${++seq}`, createTime: 1_700_000_000 + seq, ...fields }) as unknown as WechatEvent;

async function rate(bot: Bot<BotContext>, make: () => WechatEvent, n: number): Promise<number> {
  for (let i = 0; i < 2000; i++) await bot.handle(make()); // warm-up
  const start = performance.now();
  for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: 100 }, () => bot.handle(make())));
  return n / ((performance.now() - start) / 1000);
}

// 1. Memory over a million distinct pushes: the dedupe cache is bounded.
{
  const store = await openStore('memory://', { log });
  const bot = await botWith({ menu: { button: [{ type: 'click', name: 'a', key: 'A' }] }, clicks: { A: 'reply' } }, store);
  const total = quick ? 200_000 : 1_000_000;
  const rows: string[] = [];
  gc();
  rows.push(`| 0 | ${fmt(process.memoryUsage().rss / 2 ** 20)} MB |`);
  for (let done = 0; done < total;) {
    for (let i = 0; i < total / 4; i += 100, done += 100)
      await Promise.all(Array.from({ length: 100 }, () => bot.handle(ev({ type: 'click', key: 'A' }))));
    gc();
    rows.push(`| ${fmt(done)} | ${fmt(process.memoryUsage().rss / 2 ** 20)} MB |`);
  }
  out.push(
    `## Memory over ${fmt(total)} distinct pushes\n\nClick pushes, each from another user, through the default chain on a memory store (RSS after a GC):\n\n| pushes handled | RSS |\n|---:|---:|\n${rows.join('\n')}`,
  );
  await store.close();
}

// 2. Purge with 1,000 vs 100,000 users in a SQLite store: one delete by key, so flat.
{
  const rows: string[] = [];
  for (const users of [1_000, 100_000]) {
    const file = join(dir, `purge-${users}.sqlite`);
    const store = await openStore(`sqlite://${file}`, { log, namespace: 'bench' });
    // Filled through the store's own SQLite library: two copies of SQLite in one process do not see each other's locks.
    const raw = new Database(file);
    raw
      .prepare(
        `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
         INSERT INTO keyv (key, value) SELECT 'bench:user:' || hex(randomblob(32)), '{"value":{"campaign":"poster","followedAt":1700000000}}' FROM n`,
      )
      .run(users);
    raw.close();
    const bot = await botWith({ campaigns: { poster: { scene: 'poster', permanent: true } } }, store);
    const leaving = Array.from({ length: 300 }, () => `oLeaving${++seq}`);
    for (const from of leaving) await bot.handle(ev({ type: 'subscribe', scene: 'poster', from }));
    const start = performance.now();
    for (const from of leaving) await bot.handle(ev({ type: 'unsubscribe', from }));
    rows.push(`| ${fmt(users)} | ${fmt((performance.now() - start) / leaving.length, 2)} ms |`);
    await store.close();
  }
  out.push(
    `## Purge time\n\nHandling an \`unsubscribe\` (dedupe, purge, counters) with a SQLite store already holding N user records, 300 unfollows each:\n\n| users in the store | per unsubscribe |\n|---:|---:|\n${rows.join('\n')}`,
  );
}

// 3. Throughput with 1 vs 1,000 click keys and campaigns: lookups by key, so flat.
{
  const n = quick ? 20_000 : 60_000;
  const rows: string[] = [];
  for (const size of [1, 1_000]) {
    const clicks = Object.fromEntries(Array.from({ length: size }, (_, i) => [`KEY_${i}`, `reply ${i}`]));
    const campaigns: Record<string, CampaignConfig> = Object.fromEntries(
      Array.from({ length: size }, (_, i) => [
        `c${i}`,
        { scene: `scene-${i}`, permanent: true, welcome: `welcome ${i}` } as CampaignConfig,
      ]),
    );
    const store = await openStore('memory://', { log });
    const bot = await botWith({ clicks, campaigns }, store);
    const key = `KEY_${Math.floor(size / 2)}`;
    const scene = `scene-${Math.floor(size / 2)}`;
    const clickRate = await rate(bot, () => ev({ type: 'click', key }), n);
    const followRate = await rate(bot, () => ev({ type: 'subscribe', scene }), n);
    rows.push(`| ${fmt(size)} | ${fmt(clickRate)} | ${fmt(followRate)} |`);
    await store.close();
  }
  out.push(
    `## Throughput with the size of the config\n\n\`bot.handle\` in one process, memory store, 100 pushes in flight:\n\n| click keys and campaigns | clicks/s | follows through a campaign/s |\n|---:|---:|---:|\n${rows.join('\n')}`,
  );
}

// 4. Start-up sync with 1,000 campaigns: first start creates, a restart writes nothing.
{
  const emulator = new WechatEmulator({ appId: 'wxbench', secret: 's' });
  const served = await emulator.listen();
  const store = await openStore(`sqlite://${join(dir, 'sync.sqlite')}`, { log });
  const api = new WechatApi({ appId: 'wxbench', secret: 's', base: served.url, store, log });
  const campaigns = Object.fromEntries(
    Array.from({ length: 1000 }, (_, i) => [
      `c${i}`,
      (i % 2 ? { scene: i + 1, permanent: true } : { scene: `poster-${i}`, expireSeconds: 2_592_000 }) as CampaignConfig,
    ]),
  );
  const config = resolveConfig({ menu: { button: [{ type: 'click', name: 'a', key: 'A' }] }, clicks: { A: 'x' }, campaigns });
  const rows: string[] = [];
  for (const run of ['first start', 'restart']) {
    const before = emulator.count('qrcode/create') + emulator.count('menu/create');
    const start = performance.now();
    const report = await syncOnce({ api, config }, store, log);
    const writes = emulator.count('qrcode/create') + emulator.count('menu/create') - before;
    rows.push(`| ${run} | ${fmt((performance.now() - start) / 1000, 2)} s | ${writes} | ${report.errors.length} |`);
  }
  out.push(
    `## Start-up sync with 1,000 campaigns\n\nAgainst the emulator on loopback, SQLite store; 500 permanent and 500 temporary codes and a menu:\n\n| run | time | writes to WeChat | errors |\n|---|---:|---:|---:|\n${rows.join('\n')}`,
  );
  await store.close();
  await served.close();
}

// 5. The XML parser, side by side with the alternatives: the cost of parsing one push.
{
  const { XMLParser, XMLValidator } = await import('fast-xml-parser');
  const { parseFull, parseXml } = await import('../../core/protocol/xml.ts');
  const { pushXml } = await import('./job.ts');
  const fxp = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: true });
  const body = pushXml(42);
  const n = quick ? 20_000 : 100_000;
  const perPush = async (parse: () => unknown) => {
    for (let i = 0; i < 5000; i++) await parse();
    const start = performance.now();
    for (let i = 0; i < n; i++) await parse();
    return ((performance.now() - start) * 1000) / n;
  };
  const ours = await perPush(() => parseXml(body));
  const full = await perPush(() => parseFull(body));
  const fast = await perPush(() => {
    if (XMLValidator.validate(body) !== true) throw new Error('invalid');
    return fxp.parse(body);
  });
  out.push(
    `## XML parsers side by side\n\nOne \`subscribe\` push, ${fmt(n)} times:\n\n| parser | µs per push |\n|---|---:|\n` +
      `| core/protocol/xml.ts as it runs: the flat-shape reader, xml2js for any other body | ${fmt(ours, 1)} |\n` +
      `| xml2js 0.6 for every body (with the DTD check and the depth bound) | ${fmt(full, 1)} |\n` +
      `| fast-xml-parser 5 (validate, then parse) | ${fmt(fast, 1)} |`,
  );
}

rmSync(dir, { recursive: true, force: true });
console.log(out.join('\n\n'));
process.exit(0);
