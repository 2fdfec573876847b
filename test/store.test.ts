import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Store } from '../core/state/store.ts';
import { openStore } from '../core/state/open-store.ts';
import { memoryLogger } from './_helpers.ts';
import { redisTest, startRedis } from './_redis.ts';

// A merge of fields, as the user records make one through update().
const merge = <T extends object>(store: Store, key: string, patch: Partial<T>, guard: string) =>
  store.update<T>(key, (current) => ({ ...current, ...patch }) as T, guard);

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
  await first.increment('n', 2);
  await first.close();
  const second = await openStore(url, { log: memoryLogger().log });
  t.deepEqual(await second.get('k'), { a: 1 });
  t.is(await second.get('n'), 2);
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

type Opener = (t: ExecutionContext) => Promise<Store>;
const kinds: [string, Opener, typeof test | 'redis'][] = [
  ['memory', async () => openStore('memory://', { log: memoryLogger().log }), test],
  ['sqlite', async (t) => openStore(`sqlite://${join(tempDir(t), 'bot.sqlite')}`, { log: memoryLogger().log }), test],
  ['redis', async (t) => openStore((await startRedis(t)).url, { log: memoryLogger().log }), 'redis'],
];

for (const [kind, open, runner] of kinds) {
  const define = (title: string, body: (t: ExecutionContext) => Promise<void>) =>
    runner === 'redis' ? redisTest(test, `${kind}: ${title}`, body) : runner(`${kind}: ${title}`, body);

  define('get, set, delete round-trip values', async (t) => {
    const store = await open(t);
    await store.set('obj', { a: [1, '二'] });
    t.deepEqual(await store.get('obj'), { a: [1, '二'] });
    await store.delete('obj');
    t.is(await store.get('obj'), undefined);
    await store.close();
  });

  define('a value read back is a copy; numbers, strings and booleans round-trip', async (t) => {
    const store = await open(t);
    await store.set('obj', { list: [1] });
    const read = await store.get<{ list: number[] }>('obj');
    read!.list.push(2);
    t.deepEqual(await store.get('obj'), { list: [1] }, 'changing what was read does not change the store');
    for (const value of [0, 42.5, '', '{"json":"not an object"}', true, false]) {
      await store.set('v', value);
      t.deepEqual(await store.get('v'), value);
    }
    await store.set('v', null);
    t.is(await store.get('v'), undefined, 'null reads back as missing, in every store');
    await store.close();
  });

  define('setUnless writes only while its guard is absent or expired, and what it writes reads back', async (t) => {
    const store = await open(t);
    t.true(await store.setUnless('record', { a: 1 }, 'guard'));
    t.deepEqual(await store.get('record'), { a: 1 });
    await store.set('guard', true);
    t.false(await store.setUnless('record', { a: 2 }, 'guard'), 'refused while the guard stands');
    t.deepEqual(await store.get('record'), { a: 1 });
    await store.set('guard', true, 50);
    await new Promise((resolve) => setTimeout(resolve, 150));
    t.true(await store.setUnless('record', { a: 3 }, 'guard', 60_000), 'written once the guard expired');
    t.deepEqual(await store.get('record'), { a: 3 });
    await store.close();
  });

  define('update (a merge) creates the record, adds fields to it as they are, keeps its expiry, and is refused by its guard', async (t) => {
    const store = await open(t);
    t.deepEqual(await merge(store, 'record', { a: 1, links: [] }, 'guard'), { a: 1, links: [] });
    // An empty list stays a list and a large number whole (Lua's JSON would change both).
    const merged = await merge(store, 'record', { id: 2 ** 53 - 1, nested: { list: [] } }, 'guard');
    t.deepEqual(merged, { a: 1, links: [], id: 2 ** 53 - 1, nested: { list: [] } });
    t.deepEqual(await store.get('record'), merged);
    t.deepEqual(await merge(store, 'record', { a: undefined }, 'guard'), {
      a: undefined,
      links: [],
      id: 2 ** 53 - 1,
      nested: { list: [] },
    });
    t.deepEqual(await store.get('record'), { links: [], id: 2 ** 53 - 1, nested: { list: [] } }, 'a field set to undefined is gone');
    await store.set('guard', true);
    t.is(await merge(store, 'record', { b: 1 }, 'guard'), undefined, 'refused while the guard stands');
    t.deepEqual(await store.get('record'), { links: [], id: 2 ** 53 - 1, nested: { list: [] } });
    await store.set('short', { a: 1 }, 1500);
    await store.delete('guard');
    await merge(store, 'short', { b: 2 }, 'guard');
    t.deepEqual(await store.get('short'), { a: 1, b: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1700));
    t.is(await store.get('short'), undefined, 'the merged record expired when it was due to');
    await merge(store, 'short', { c: 3 }, 'guard');
    t.deepEqual(await store.get('short'), { c: 3 }, 'a merge into an expired record starts a new one');
    await store.close();
  });

  define('update writes nothing when its change gives nothing, and changes a record it had not seen', async (t) => {
    const store = await open(t);
    const dropLinks = (record: { links?: string[] } | undefined) => (record?.links ? { ...record, links: [] } : undefined);
    t.is(await store.update('record', dropLinks, 'guard'), undefined);
    t.is(await store.get('record'), undefined, 'no record made');
    await store.set('record', { links: ['a'], name: 'x' });
    // On Redis the first try expects no record: given nothing, the change gives nothing, so the store must look.
    t.deepEqual(await store.update('record', dropLinks, 'guard'), { links: [], name: 'x' });
    t.deepEqual(await store.get('record'), { links: [], name: 'x' });
    await store.close();
  });

  define('update refuses a change made by an async function, rather than write the promise', async (t) => {
    const store = await open(t);
    await t.throwsAsync(store.update('record', (async () => ({ a: 1 })) as never, 'guard'), { message: /not a promise/ });
    t.is(await store.get('record'), undefined);
    await store.close();
  });

  define("merge, setUnless and claim keep a string that starts with ':' as it is", async (t) => {
    const store = await open(t);
    await store.set('record', { nick: ':D' });
    t.deepEqual(await merge(store, 'record', { mood: ':)' }, 'guard'), { nick: ':D', mood: ':)' });
    t.deepEqual(await store.get('record'), { nick: ':D', mood: ':)' });
    t.true(await store.setUnless('other', ':base64:not bytes', 'guard'));
    t.is(await store.get('other'), ':base64:not bytes');
    t.true(await store.claim('claimed', ':x', 60_000));
    t.is(await store.get('claimed'), ':x');
    await store.close();
  });

  define('records expire after their ttl', async (t) => {
    const store = await open(t);
    await store.set('short', 1, 400);
    t.is(await store.get('short'), 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.is(await store.get('short'), undefined);
    await store.close();
  });

  define('concurrent increments add up, and get reads the counter', async (t) => {
    const store = await open(t);
    const results = await Promise.all(Array.from({ length: 100 }, () => store.increment('n')));
    t.is(await store.get('n'), 100);
    t.deepEqual(
      [...results].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    t.is(await store.increment('n', 5), 105);
    await store.close();
  });

  define('increments asked in one turn each get the value they made, in the order they were asked', async (t) => {
    const store = await open(t);
    await store.increment('x', 10);
    const [a, , b, c, d] = await Promise.all([
      store.increment('x', 2),
      store.incrementAll([{ key: 'x' }, { key: 'y', by: 3 }]),
      store.increment('x', 0),
      store.increment('y', -1),
      store.increment('x', -4),
    ]);
    t.deepEqual([a, b, c, d], [12, 13, 2, 9]);
    t.deepEqual([await store.get('x'), await store.get('y')], [9, 2]);
    await store.close();
  });

  define('incrementAll adds to several counters at once, as increment does to each', async (t) => {
    const store = await open(t);
    await store.increment('a', 3);
    await Promise.all(
      Array.from({ length: 20 }, () => store.incrementAll([{ key: 'a' }, { key: 'b', by: 2 }, { key: 'window', ttlMs: 400 }])),
    );
    t.deepEqual([await store.get('a'), await store.get('b'), await store.get('window')], [23, 40, 20]);
    await store.incrementAll([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.deepEqual([await store.get('a'), await store.get('window')], [23, undefined], 'each counter keeps its own expiry');
    await store.close();
  });

  define('increment counts on from a number set() wrote, keeping its expiry; set() overwrites a counter', async (t) => {
    const store = await open(t);
    await store.set('c', 10, 400);
    t.is(await store.increment('c'), 11);
    t.is(await store.get('c'), 11);
    await store.increment('d', 4);
    await store.set('d', 2);
    t.is(await store.get('d'), 2);
    t.is(await store.increment('d'), 3);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.deepEqual([await store.get('c'), await store.get('d')], [undefined, 3]);
    await store.close();
  });

  define('claim: exactly one of many concurrent callers wins, until the claim expires', async (t) => {
    const store = await open(t);
    const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim('lock', { by: i }, 400)));
    t.is(wins.filter(Boolean).length, 1);
    t.like(await store.get('lock'), { by: wins.indexOf(true) });
    t.false(await store.claim('lock', { by: 'late' }, 400));
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.true(await store.claim('lock', { by: 'after expiry' }, 400));
    await store.close();
  });
}

test('an unknown BOT_STORE scheme is refused with a clear message', async (t) => {
  await t.throwsAsync(openStore('mongodb://x', { log: memoryLogger().log }), {
    message: /BOT_STORE must start with sqlite:\/\/, redis:\/\/ or memory:\/\//,
  });
});

redisTest(test, 'redis: an unreachable server at start is a clear error, with no password in it', async (t) => {
  await t.throwsAsync(openStore('redis://:hunter2@127.0.0.1:9/0', { log: memoryLogger().log }), {
    message: /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:9\/0/,
  });
});

redisTest(test, 'redis: incrementAll changes no counter when one of them cannot be read', async (t) => {
  const { url } = await startRedis(t);
  const store = await openStore(url, { log: memoryLogger().log });
  await store.incrementAll([{ key: 'a', by: 5 }, { key: 'b' }]);
  // Break b underneath the store, as a stray write by another program would.
  const { createClient } = await import('@keyv/redis');
  const raw = createClient({ url });
  await raw.connect();
  const [fullB] = (await raw.keys('*')).filter((key) => key.endsWith('b'));
  await raw.set(fullB!, 'not JSON');
  await raw.quit();
  await t.throwsAsync(store.incrementAll([{ key: 'a' }, { key: 'b' }]));
  t.is(await store.get('a'), 5, 'a was left as it was');
  await store.close();
});

redisTest(test, 'redis: an update of a record past its expiry, still in Redis, starts a new record', async (t) => {
  const { url } = await startRedis(t);
  const store = await openStore(url, { log: memoryLogger().log, namespace: 'bot' });
  t.teardown(() => store.close());
  const { createClient } = await import('@keyv/redis');
  const raw = createClient({ url });
  await raw.connect();
  // Its own expiry has passed, Redis's has not (clocks apart): Redis has not dropped it.
  await raw.set('bot::record', JSON.stringify({ value: { a: 1 }, expires: 1 }), { PX: 60_000 });
  t.deepEqual(await merge(store, 'record', { b: 2 }, 'guard'), { b: 2 });
  t.deepEqual(await store.get('record'), { b: 2 }, 'written, and read back');
  t.is(await raw.pTTL('bot::record'), -1, "the new record does not inherit the old one's expiry");
  await raw.quit();
});

redisTest(test, 'redis: two bots share a server without sharing keys', async (t) => {
  const { url } = await startRedis(t);
  const a = await openStore(url, { log: memoryLogger().log, namespace: 'botA' });
  const b = await openStore(url, { log: memoryLogger().log, namespace: 'botB' });
  await a.set('k', 'from A');
  await a.increment('n');
  t.is(await b.get('k'), undefined);
  t.is(await b.get('n'), undefined);
  t.is(await a.get('k'), 'from A');
  await Promise.all([a.close(), b.close()]);
});

redisTest(test, 'redis: killed and restarted, the store fails fast meanwhile and works again after', async (t) => {
  const redis = await startRedis(t);
  const { log, text } = memoryLogger();
  const store = await openStore(redis.url, { log });
  await store.set('k', 1);
  await redis.kill();
  const started = Date.now();
  await t.throwsAsync(store.get('k'));
  // With an offline queue the read would wait for the store's 3 s timeout.
  t.true(Date.now() - started < 2000, 'no offline queue: fails at once');
  await redis.restart();
  let value: unknown;
  for (let i = 0; i < 50 && value === undefined; i++) {
    value = await store
      .set('k2', 2)
      .then(() => store.get('k2'))
      .catch(() => undefined);
    if (value === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(value, 2);
  t.regex(text(), /store: redis/);
  await store.close();
});

for (const kind of ['memory', 'sqlite', 'redis'] as const) {
  const define = (title: string, body: (t: ExecutionContext) => Promise<void>) =>
    kind === 'redis' ? redisTest(test, title, body) : test(title, body);
  define(`${kind}: a counter made with a ttl restarts after its window`, async (t: ExecutionContext) => {
    const url =
      kind === 'memory' ? 'memory://' : kind === 'sqlite' ? `sqlite://${join(tempDir(t), 'bot.sqlite')}` : (await startRedis(t)).url;
    const store = await openStore(url, { log: memoryLogger().log });
    t.is(await store.increment('window', 1, 400), 1);
    t.is(await store.increment('window', 1, 400), 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.is(await store.get('window'), undefined);
    t.is(await store.increment('window', 1, 400), 1);
    await store.close();
  });
}

// Two instances, each merging its own fields into one record at once, must not undo each other.
const mergeRace = async (t: ExecutionContext, a: Store, b: Store) => {
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await Promise.all(Array.from({ length: 40 }, (_, i) => merge((i % 2 ? a : b) as Store, 'shared', { [`field${i}`]: i }, 'guard')));
  const record = await a.get<Record<string, number>>('shared');
  t.is(Object.keys(record ?? {}).length, 40, 'every field of both instances is there');
};

test('sqlite: two processes merging into one record at once lose no field', async (t) => {
  const url = `sqlite://${join(tempDir(t), 'bot.sqlite')}`;
  await mergeRace(t, await openStore(url, { log: memoryLogger().log }), await openStore(url, { log: memoryLogger().log }));
});

redisTest(test, 'redis: two instances merging into one record at once lose no field', async (t) => {
  const { url } = await startRedis(t);
  await mergeRace(t, await openStore(url, { log: memoryLogger().log }), await openStore(url, { log: memoryLogger().log }));
});

test('sqlite: expired records are swept through an index, without reading the table', async (t) => {
  const { default: Database } = await import('better-sqlite3');
  const { SWEEP } = await import('../core/state/stores/sqlite.ts');
  const file = join(tempDir(t), 'bot.sqlite');
  const store = await openStore(`sqlite://${file}`, { log: memoryLogger().log });
  await store.set('old', 1, 1);
  await store.set('kept', 2);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const raw = new Database(file);
  const plan = raw.prepare(`EXPLAIN QUERY PLAN ${SWEEP}`).all(Date.now()) as { detail: string }[];
  t.regex(plan.map((p) => p.detail).join(' '), /USING INDEX keyv_expiry/);
  raw.prepare(SWEEP).run(Date.now());
  t.deepEqual(
    (raw.prepare('SELECT key FROM keyv').all() as { key: string }[]).map((r) => r.key),
    ['bot:kept'],
  );
  raw.close();
  await store.close();
});

test("sqlite: a file an older version wrote (Keyv's table, expiry inside the JSON) reads, counts, expires and is swept as before", async (t) => {
  const { default: Database } = await import('better-sqlite3');
  const { SWEEP } = await import('../core/state/stores/sqlite.ts');
  const file = join(tempDir(t), 'bot.sqlite');
  const old = new Database(file);
  old.exec('CREATE TABLE keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)');
  old.exec("CREATE INDEX keyv_expires ON keyv (json_extract(value, '$.expires'))");
  const insert = old.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
  insert.run('bot:user:1', JSON.stringify({ value: { campaign: 'spring' } }));
  insert.run('bot:gone', JSON.stringify({ value: 1, expires: Date.now() - 1 }));
  insert.run('bot:window', JSON.stringify({ value: 4, expires: Date.now() + 2000 }));
  old.close();
  // Two processes may open it at once (BOT_WORKERS): both must start.
  const [store, other] = await Promise.all([1, 2].map(() => openStore(`sqlite://${file}`, { log: memoryLogger().log })));
  t.deepEqual(await store!.get('user:1'), { campaign: 'spring' });
  t.is(await store!.get('gone'), undefined);
  t.is(await store!.increment('window'), 5, 'a counter counts on');
  t.is(await other!.increment('window'), 6);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  t.is(await store!.get('window'), undefined, 'and keeps the expiry the older version gave it');
  await Promise.all([store!.close(), other!.close()]);
  const raw = new Database(file);
  raw.prepare(SWEEP).run(Date.now());
  t.deepEqual(
    (raw.prepare('SELECT key FROM keyv').all() as { key: string }[]).map((r) => r.key),
    ['bot:user:1'],
    'what expired is swept',
  );
  // A process of the older version, still writing the file, leaves the new column empty.
  const expired = JSON.stringify({ value: 1, expires: Date.now() - 1 });
  for (const key of ['lock', 'tombstone', 'rate']) raw.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)').run(`bot:${key}`, expired);
  raw.close();
  const reopened = await openStore(`sqlite://${file}`, { log: memoryLogger().log });
  t.is(await reopened.get('tombstone'), undefined, 'its expired record reads as missing');
  t.true(await reopened.claim('lock', 'mine', 1000), 'its expired claim can be claimed again');
  t.is(await reopened.increment('rate'), 1, 'its expired counter starts again');
  await reopened.close();
});

test('sqlite: a commit that failed (the file locked by another process) leaves increments working', async (t) => {
  const { default: Database } = await import('better-sqlite3');
  const file = join(tempDir(t), 'bot.sqlite');
  const store = await openStore(`sqlite://${file}`, { log: memoryLogger().log });
  t.teardown(() => store.close());
  t.is(await store.increment('n'), 1);
  const other = new Database(file, { timeout: 0 });
  other.exec('BEGIN IMMEDIATE'); // holds the write lock past the store's wait for it
  await t.throwsAsync(store.increment('n'), { message: /locked/ });
  other.exec('ROLLBACK');
  other.close();
  t.is(await store.increment('n'), 2, 'the next increment is committed');
  await t.throwsAsync(store.increment('n', Number.NaN), { message: /not a number/ });
  t.deepEqual(await Promise.all([store.increment('n'), store.increment('m', 5)]), [3, 5], 'a bad count fails alone');
});

test('sqlite: while another connection holds the write lock, the loop goes on and the write commits once it is released', async (t) => {
  const { default: Database } = await import('better-sqlite3');
  const file = join(tempDir(t), 'bot.sqlite');
  const store = await openStore(`sqlite://${file}`, { log: memoryLogger().log });
  t.teardown(() => store.close());
  await store.set('k', 'before');
  // In this process, so the lock is released by a timer of this loop: if waiting for the lock
  // held the loop (SQLite's busy handler sleeps in it), the timer could not fire, and the write
  // would fail after the store's wait.
  const other = new Database(file, { timeout: 0 });
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  setTimeout(() => other.open && other.exec('COMMIT'), 100);
  await store.set('k', 'after');
  t.is(await store.get('k'), 'after');
});

test('sqlite: under a steady stream of commits, the log is started again, not grown without bound', async (t) => {
  const file = join(tempDir(t), 'bot.sqlite');
  const store = await openStore(`sqlite://${file}`, { log: memoryLogger().log });
  t.teardown(() => store.close());
  const { closeSync, openSync, readSync } = await import('node:fs');
  // The log's header counts the times it was started again (its checkpoint sequence number). Only
  // the header is read: the log is tens of MB, and this runs after every commit.
  const header = Buffer.alloc(16);
  const restarts = () => {
    const fd = openSync(`${file}-wal`, 'r');
    try {
      readSync(fd, header, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
    return header.readUInt32BE(12);
  };
  // Ten 1 KB records under new keys a commit, a commit every millisecond or two: the
  // housekeeping worker checkpoints every second, and no checkpoint finds the log still. A log
  // never started again holds every commit's pages, and grows as long as the writes go on; one
  // started again is written over from its beginning, and stays the size a second's commits make.
  const value = 'x'.repeat(1000);
  await store.set('first', value);
  const before = restarts();
  const until = Date.now() + 20_000;
  for (let turn = 0; restarts() - before < 3 && Date.now() < until; turn++) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.set(`k${turn}:${i}`, value)));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  t.is(restarts() - before, 3, 'started again three times in 20 s');
  t.is(await store.get('k0:0'), value, 'what was written is read back');
});

test('sqlite: the housekeeping worker sweeps expired records in batches and empties the log on demand, off the event loop', async (t) => {
  const { default: Database } = await import('better-sqlite3');
  const { startHousekeeping } = await import('../core/state/stores/housekeeping.ts');
  const file = join(tempDir(t), 'bot.sqlite');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('wal_autocheckpoint = 0');
  raw.exec('CREATE TABLE keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)');
  const insert = raw.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
  raw.transaction(() => {
    for (let i = 0; i < 1234; i++) insert.run(`old:${i}`, JSON.stringify({ value: i, expires: 1 }));
    insert.run('kept', JSON.stringify({ value: 'k' }));
  })();
  const stopped: Error[] = [];
  const housekeeping = startHousekeeping(file, {
    everyMs: 1000,
    busyMs: 250,
    sweep: {
      sql: "DELETE FROM keyv WHERE key IN (SELECT key FROM keyv WHERE json_extract(value, '$.expires') < ? LIMIT 100)",
      batch: 100,
      everyMs: 50,
      pauseMs: 1,
    },
    onStop: (error) => stopped.push(error),
  });
  t.teardown(() => housekeeping.close());
  const count = () => (raw.prepare('SELECT count(*) AS n FROM keyv').get() as { n: number }).n;
  for (let i = 0; i < 200 && count() > 1; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  t.is(count(), 1, 'every expired record swept, a hundred at a time');
  await housekeeping.now('TRUNCATE');
  const { statSync } = await import('node:fs');
  t.is(statSync(`${file}-wal`).size, 0, 'the log emptied');
  await housekeeping.close();
  t.deepEqual(stopped, [], 'closing is not a failure');
  raw.close();

  // The store starts its worker once its table exists, and the worker keeps running.
  const log = memoryLogger();
  const store = await openStore(`sqlite://${join(tempDir(t), 'store.sqlite')}`, { log: log.log });
  await store.set('k', 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await store.close();
  t.notRegex(log.text(), /housekeeping worker stopped/);
});
