// BOT_WORKERS: several processes on one port, sharing the SQLite file.
import test from 'ava';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../core/state/open-store.ts';
import { parseXml } from '../core/protocol/xml.ts';
import { eventFields, memoryLogger, openid, pushXml, runApp, signedQuery, TOKEN } from './_helpers.ts';

// Each request on a connection of its own: the cluster hands out connections, so a retry can
// reach the other worker, as WeChat's retries reach any instance behind a balancer.
function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}?${signedQuery()}`, { method: 'POST', agent: false, headers: { 'content-type': 'text/xml' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('two workers on one SQLite file: 1,000 follows, each sent twice at once, are run and counted once each; METRICS_PORT sums both workers; a dead worker is replaced; SIGTERM stops both', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bot-workers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'bot.config.ts'),
    `export default { campaigns: { poster: { scene: 'poster', permanent: true, welcome: 'poster welcome' } } };\n`,
  );
  const env = {
    ...process.env,
    PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    BOT_WORKERS: '2',
    BOT_STORE: `sqlite://${join(dir, 'bot.sqlite')}`,
    BOT_STORE_PREFIX: 'workers',
    BOT_CONFIG: join(dir, 'bot.config.ts'),
    WECHAT_TOKEN: TOKEN,
    METRICS_PORT: '0',
    BOT_METRICS_TOKEN: 'metrics-token-0123456789',
  };
  const app = runApp(t, env);
  await app.until(/bot listening[\s\S]*bot listening/);
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+\/wechat)/.exec(app.output())![1]!;
  const pids = new Set([...app.output().matchAll(/"pid":(\d+)[^\n]*bot listening/g)].map((m) => m[1]));
  t.is(pids.size, 2, 'two workers listen');

  const bodies = Array.from({ length: 1000 }, () =>
    pushXml(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster', Ticket: 'T' })),
  );
  const replies: string[] = [];
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      // The push and its retry at the same moment, each on its own connection.
      for (const answer of await Promise.all([post(url, body), post(url, body)])) {
        t.is(answer.status, 200);
        replies.push(String((await parseXml(answer.text)).Content));
      }
    }
  };
  await Promise.all(Array.from({ length: 25 }, sender));
  t.is(replies.filter((r) => r === 'poster welcome').length, 2000, 'the push and its retry both get the welcome');

  const store = await openStore(env.BOT_STORE, { log: memoryLogger().log, namespace: env.BOT_STORE_PREFIX });
  t.teardown(() => store.close());
  const { campaignStats } = await import('../plugins/scene-campaign.ts');
  t.is((await campaignStats(store, 'poster')).follows, 1000, 'each follow counted once, whichever worker ran it');
  t.notRegex(app.output(), /STORE UNAVAILABLE|database is locked|not saved|not recorded/, 'no write failed or waited too long');

  // Whichever worker answers /metrics, or the primary on METRICS_PORT, the counts are both workers'.
  const metricsUrl = /metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(app.output())![1]!;
  const count = (text: string, outcome: string) =>
    Number(new RegExp(`^wechat_pushes_total\\{type="subscribe",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const fromPrimary = await (await fetch(metricsUrl)).text();
  t.is(count(fromPrimary, 'replied') + count(fromPrimary, 'replayed'), 2000, 'every push, on METRICS_PORT');
  t.is(count(fromPrimary, 'replied'), 1000, 'each follow run once');
  const fromWorker = await fetch(url.replace(/\/wechat$/, '/metrics'), { headers: { authorization: `Bearer ${env.BOT_METRICS_TOKEN}` } });
  t.is(count(await fromWorker.text(), 'replied'), 1000, 'and on /metrics of the main port');

  // A worker that dies is replaced; the port answers meanwhile.
  process.kill(Number([...pids][0]), 'SIGKILL');
  await app.until(/a worker died: starting another/);
  await app.until(/bot listening[\s\S]*bot listening[\s\S]*bot listening/);
  const after = await post(url, pushXml(eventFields(openid(), 'subscribe', { EventKey: 'qrscene_poster', Ticket: 'T' })));
  t.is(String((await parseXml(after.text)).Content), 'poster welcome');

  app.child.kill('SIGTERM');
  t.is(await app.exited, 0);
  t.regex(app.output(), /shutting down the workers/);
});

test('BOT_WORKERS with a memory store, or not a number, stops the start with a clear message', async (t) => {
  const { readSettings, SettingsError } = await import('../app/settings.ts');
  t.throws(() => readSettings({ BOT_WORKERS: '2', BOT_STORE: 'memory://' }), { instanceOf: SettingsError, message: /share/ });
  t.throws(() => readSettings({ BOT_WORKERS: 'many' }), { instanceOf: SettingsError, message: /BOT_WORKERS/ });
  t.true(readSettings({ BOT_WORKERS: 'auto' }).workers >= 1);
  t.is(readSettings({}).workers, 1);
});
