// npm run bench:store [-- <store url>…]: the store's work of a campaign follow, in one process, as
// the chain asks for it: the nonce and the dedupe claim, then the user record (changed unless a
// tombstone stands) and the campaign's four counters, then the reply record; each step
// committed before the next, 30 pushes a turn (about what a turn holds at 50 connections). Every
// push is another user. Prints µs per push: the CPU of all the process's threads (SQLite's
// housekeeping worker too), and the wall time.
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../core/kernel/log.ts';
import { openStore } from '../../core/state/open-store.ts';

const PUSHES = 100_000;
const PER_TURN = 30;
const log = createLogger({ level: 'warn', format: 'json' });
const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
const urls = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['memory://', `sqlite://${join(dir, 'bot.sqlite')}`];
const counters = ['scans', 'follows'].flatMap((metric) => [
  { key: `campaign:poster:${metric}` },
  { key: `campaign:poster:${metric}@1`, ttlMs: 31 * 24 * 3600_000 },
]);

for (const url of urls) {
  const store = await openStore(url, { log, namespace: 'bench' });
  const follow = async (i: number) => {
    const createTime = 1_700_000_000 + Math.floor(i / 5000);
    const id = `e:oBenchUser${i}|${createTime}|subscribe|qrscene_poster`;
    const dedupeKey = `dedupe:${createTime}:${hash('sha256', id, 'base64url')}`;
    await Promise.all([store.claim(`nonce:${createTime}:${i}`, 'body', 300_000), store.claim(dedupeKey, { running: true }, 3000)]);
    const userKey = `user:${hash('sha256', `oBenchUser${i}`, 'hex')}`;
    await Promise.all([
      store.incrementAll(counters),
      store.update<object>(userKey, (record) => ({ ...record, campaign: 'poster', followedAt: createTime }), `gone:${userKey}`),
    ]);
    await store.set(dedupeKey, { reply: { type: 'text', content: 'welcome' } }, 300_000);
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < PUSHES;) await Promise.all(Array.from({ length: PER_TURN }, () => follow(i++)));
  const wall = ((performance.now() - started) * 1000) / PUSHES;
  const used = process.cpuUsage(cpu);
  await store.close();
  console.log(`${url.split(':')[0]}: ${((used.user + used.system) / PUSHES).toFixed(1)} µs of CPU a push, ${wall.toFixed(1)} µs wall`);
}
rmSync(dir, { recursive: true, force: true });
