// npm run bench:bad-day [-- --quick]: the framework on its default store (SQLite), as `wechat-mp-bot
// start` serves it, through a long load and a slowloris attack.
// - Soak: its capacity first (10 s at 50 connections), then half of it for 10 minutes, in 30 s
//   windows: requests answered, p99, errors, and the process's resident memory after each window.
// - Slowloris: a fixed rate of pushes with no slow connection open, then with 1,000 (half send
//   nothing, half a header byte a second; closed ones are opened again at once).
// Writes its section of BENCHMARKS.md, which `npm run bench` keeps.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import autocannon from 'autocannon';
import { sign } from '../../core/protocol/signature.ts';
import { BAD_DAY_BEGIN as BEGIN, BAD_DAY_END as END, badDaySection, root, rssOf, sqliteScratch, startTarget, stop } from './harness.ts';
import { pushXml, TOKEN } from './job.ts';

const quick = process.argv.includes('--quick');
const SOAK_S = quick ? 60 : 600;
const WINDOW_S = quick ? 10 : 30;
const CONNECTIONS = 50;
const SLOW_CONNECTIONS = 1000;
const SLOW_RATE = 500; // pushes a second while measuring a push's latency beside the slow connections
const SLOW_RUN_S = quick ? 10 : 20;

let nextUser = 50_000_000;
let nextNonce = 1;
function request(): { path: string; body: string } {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(nextNonce++);
  return {
    path: `/wechat?signature=${sign(TOKEN, timestamp, nonce)}&timestamp=${timestamp}&nonce=${nonce}&openid=o`,
    body: pushXml(nextUser++),
  };
}

async function load(url: string, seconds: number, rate?: number) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    requests: [{ method: 'POST', headers: { 'content-type': 'text/xml' }, setupRequest: (req) => ({ ...req, ...request() }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    total: result.requests.total,
  };
}

// Slow connections from other loopback addresses than the load's (a cap of 512 holds per
// address), kept at `count`: one the server closes is opened again.
function slowloris(port: number, count: number): { open: () => number; stop: () => void } {
  const sockets = new Set<Socket>();
  const partial = 'POST /wechat HTTP/1.1\r\nHost: bot\r\nContent-Type: text/xml\r\nX-Slow: ' + 'a'.repeat(1000);
  let stopped = false;
  let made = 0;
  const openOne = () => {
    if (stopped) return;
    const index = made++;
    const socket = connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (index % 4)}` });
    socket.on('error', () => {});
    socket.resume();
    socket.once('close', () => {
      sockets.delete(socket);
      setTimeout(openOne, 10);
    });
    (socket as Socket & { dribble?: boolean }).dribble = index % 2 === 1;
    sockets.add(socket);
  };
  for (let i = 0; i < count; i++) openOne();
  let sent = 0;
  const drip = setInterval(() => {
    for (const socket of sockets) if ((socket as Socket & { dribble?: boolean }).dribble) socket.write(partial[sent % partial.length]!);
    sent++;
  }, 1000);
  return {
    open: () => [...sockets].filter((s) => !s.connecting && !s.destroyed).length,
    stop: () => {
      stopped = true;
      clearInterval(drip);
      for (const socket of sockets) socket.destroy();
    },
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number | undefined) => (bytes === undefined ? '–' : fmt(bytes / 2 ** 20, 1));

async function main(): Promise<void> {
  console.log('npm run build…');
  if (spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
  // Soak.
  const soakFile = sqliteScratch();
  const soakTarget = await startTarget('framework.ts', { BENCH_STORE: soakFile.url });
  const capacity = await load(soakTarget.url, 10);
  const rate = Math.round(capacity.rps / 2);
  console.log(`capacity ${fmt(capacity.rps)} req/s; soak at ${fmt(rate)} req/s for ${SOAK_S} s`);
  const rssStart = rssOf(soakTarget.child.pid);
  const windows: { at: number; rps: number; p99: number; errors: number; rss: number | undefined; disk: number }[] = [];
  for (let at = WINDOW_S; at <= SOAK_S; at += WINDOW_S) {
    const window = await load(soakTarget.url, WINDOW_S, rate);
    windows.push({ at, rps: window.rps, p99: window.p99, errors: window.errors, rss: rssOf(soakTarget.child.pid), disk: soakFile.bytes() });
    const last = windows.at(-1)!;
    console.log(
      `${at} s: ${fmt(window.rps)} req/s, p99 ${window.p99} ms, ${window.errors} errors, RSS ${mib(last.rss)} MiB, disk ${mib(last.disk)} MiB`,
    );
  }
  await stop(soakTarget.child);
  soakFile.remove();

  // Slowloris.
  const slowFile = sqliteScratch();
  const target = await startTarget('framework.ts', { BENCH_STORE: slowFile.url });
  const port = Number(new URL(target.url).port);
  await load(target.url, 3, SLOW_RATE); // warm-up
  const calm = await load(target.url, SLOW_RUN_S, SLOW_RATE);
  const attack = slowloris(port, SLOW_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const openBefore = attack.open();
  const besieged = await load(target.url, SLOW_RUN_S, SLOW_RATE);
  const openAfter = attack.open();
  attack.stop();
  await stop(target.child);
  slowFile.remove();
  console.log(`slowloris: p99 ${calm.p99} → ${besieged.p99} ms with ${openBefore}–${openAfter} slow connections`);

  const rows = windows.map((w) => `| ${w.at} | ${fmt(w.rps)} | ${w.p99} | ${w.errors} | ${mib(w.rss)} | ${mib(w.disk)} |`).join('\n');
  const section = `${BEGIN}
## A bad day: a long load and a slowloris attack

Made by \`npm run bench:bad-day${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}: the framework on its default store
(SQLite), served by the HTTP server of \`wechat-mp-bot start\` (its timeouts and connection caps),
loaded by autocannon (${CONNECTIONS} connections) on the same machine.

**Soak.** Capacity ${fmt(capacity.rps)} req/s (10 s flat out); then half of it, ${fmt(rate)} req/s,
for ${SOAK_S / 60} minutes, in ${WINDOW_S} s windows. Resident memory ${mib(rssStart)} MiB before the soak.

| at (s) | req/s | p99 (ms) | errors | RSS (MiB) | SQLite file and its log (MiB) |
| ---: | ---: | ---: | ---: | ---: | ---: |
${rows}

The SQLite store sweeps its expired records every 10 minutes, in the store's housekeeping worker
thread (with the log's checkpoints), in batches of 500 with a pause between them, so the event
loop waits at most for one batch. The first sweep, in the last window, finds the records of the
first five minutes (a nonce and a dedupe record a push, each kept five minutes): at this rate some
${fmt(rate * 300 * 2)} rows. The last column is what the store's files hold on disk: the file grows
with the records of the last five minutes and a record for each new follower (every push here is
one); its write-ahead log holds about the last second of commits, being started again from its
beginning after each checkpoint.

**Slowloris.** ${SLOW_RATE} pushes a second for ${SLOW_RUN_S} s, first with no slow connection, then with
${fmt(SLOW_CONNECTIONS)} (half send nothing, half a header byte a second; the server closes them
after 40 s and 10 s, and each is opened again at once; ${openBefore} open at the start of the run,
${openAfter} at its end).

| | p50 (ms) | p99 (ms) | errors |
| --- | ---: | ---: | ---: |
| no slow connection | ${calm.p50} | ${calm.p99} | ${calm.errors} |
| ${fmt(SLOW_CONNECTIONS)} slow connections | ${besieged.p50} | ${besieged.p99} | ${besieged.errors} |
${END}`;
  const file = `${root}BENCHMARKS.md`;
  const current = readFileSync(file, 'utf8');
  const old = badDaySection(current);
  const next = old ? current.replace(old, () => section) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  console.log(section);
}

await main();
process.exit(0);
