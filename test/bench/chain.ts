// npm run bench:chain [-- <dist folder>]: the per-push paths of the compiled package, in one
// process, without sockets: the chain (bot.handle) for the common pushes, and the transport's
// small steps. Each line is the median of 7 rounds, in µs per operation. Point it at the dist/ of
// another commit to compare two builds; run the two alternately, as this machine's load varies.
import http from 'node:http';
import net from 'node:net';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Koa from 'koa';

const dist = resolve(process.argv[2] ?? new URL('../../dist', import.meta.url).pathname);
// The types come from the source, the code from the build: tsx leaves compiled JavaScript as it is.
const fromDist = async <T>(path: string) => (await import(pathToFileURL(`${dist}/${path}`).href)) as T;
const core = await fromDist<typeof import('../../core/index.ts')>('core/index.js');
const { createServices } = await fromDist<typeof import('../../app/index.ts')>('app/index.js');
const { params } = await fromDist<typeof import('../../core/koa/transport.ts')>('core/koa/transport.js');

const log = core.createLogger({ level: 'silent', format: 'json' });
const config = core.resolveConfig({
  welcome: 'welcome',
  menu: { button: [{ type: 'click', name: 'today', key: 'TODAY' }] },
  clicks: { TODAY: 'today' },
  campaigns: { poster: { scene: 'poster', permanent: true, welcome: 'poster welcome' } },
  fallback: 'fallback',
});
const store = await core.openStore('memory://', { log });
const services = createServices({ config, store, log });
const bot = new core.Bot({ services, plugins: core.defaultPlugins(config.plugins) });
await bot.init();

let n = 0;
const push = (type: string, fields: Record<string, unknown>) =>
  ({ type, from: `oBenchUser${n % 500}`, to: 'gh_bench', createTime: 1_700_000_000 + ++n, ...fields }) as never;
const koa = new Koa();
const request = new http.IncomingMessage(new net.Socket());
const response = new http.ServerResponse(request);
const query = () => `signature=${'a'.repeat(40)}&timestamp=1700000000&nonce=${n++}&openid=oBenchUser&encrypt_type=aes&msg_signature=b`;

const cases: [string, number, () => unknown][] = [
  ['bot.handle: a click', 100_000, () => bot.handle(push('click', { key: 'TODAY' }))],
  ['bot.handle: a text', 100_000, () => bot.handle(push('text', { text: 'hi', msgId: String(n) }))],
  ['bot.handle: a follow through a campaign', 30_000, () => bot.handle(push('subscribe', { scene: 'poster', ticket: 't' }))],
  ['sign: three parts', 300_000, () => core.sign('benchtokenbenchtoken', '1700000000', String(n++))],
  ['params: five of a query string', 300_000, () => params(query(), 'signature', 'timestamp', 'nonce', 'encrypt_type', 'msg_signature')],
  ['a Koa context, its type set', 200_000, () => (koa.createContext(request, response).type = 'text/xml')],
];

for (const [name, iterations, run] of cases) {
  const rounds: number[] = [];
  for (let round = 0; round < 8; round++) {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) {
      const result = run();
      if (result instanceof Promise) await result;
    }
    if (round > 0) rounds.push(((performance.now() - started) * 1000) / iterations); // round 0 warms up
  }
  rounds.sort((a, b) => a - b);
  console.log(`${name.padEnd(44)} ${rounds[3]!.toFixed(2).padStart(7)} µs`);
}
await bot.close();
await store.close();
