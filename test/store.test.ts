import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../core/store.ts';
import { memoryLogger } from './_helpers.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bot-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const filesText = (dir: string) =>
  readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');

test('sqlite: data survives a restart', async (t) => {
  const url = `sqlite://${join(tempDir(t), 'nested', 'bot.sqlite')}`;
  const first = await openStore(url, { log: memoryLogger().log });
  await first.set('k', { a: 1 });
  await first.close();
  const second = await openStore(url, { log: memoryLogger().log });
  t.deepEqual(await second.get('k'), { a: 1 });
  await second.close();
});

test('sqlite: a deleted record leaves no trace in the file', async (t) => {
  const dir = tempDir(t);
  const store = await openStore(`sqlite://${join(dir, 'bot.sqlite')}`, { log: memoryLogger().log });
  await store.set('keep', 'x'.repeat(200));
  await store.set('gone', { marker: 'PERSONAL-DATA-MARKER-42' });
  await store.delete('gone');
  await store.close();
  t.false(filesText(dir).includes('PERSONAL-DATA-MARKER-42'));
});

for (const kind of ['memory', 'sqlite'] as const) {
  const open = (t: { teardown(fn: () => void): void }): Promise<Store> =>
    openStore(kind === 'memory' ? 'memory://' : `sqlite://${join(tempDir(t), 'bot.sqlite')}`, { log: memoryLogger().log });

  test(`${kind}: records expire after their ttl`, async (t) => {
    const store = await open(t);
    await store.set('short', 1, 50);
    t.is(await store.get('short'), 1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    t.is(await store.get('short'), undefined);
    await store.close();
  });

  test(`${kind}: concurrent increments add up`, async (t) => {
    const store = await open(t);
    const results = await Promise.all(Array.from({ length: 100 }, () => store.increment('n')));
    t.is(await store.get('n'), 100);
    t.deepEqual(
      [...results].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    await store.close();
  });
}

test('an unknown BOT_STORE scheme is refused with a clear message', async (t) => {
  await t.throwsAsync(openStore('mongodb://x', { log: memoryLogger().log }), {
    message: /BOT_STORE must start with sqlite:\/\/ or memory:\/\//,
  });
});
