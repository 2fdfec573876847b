// The commands as a new user runs them: npm start (emulator mode), simulate, sync, qr.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runApp } from './_helpers.ts';

const root = new URL('..', import.meta.url).pathname;
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

/** The environment of a new user: no account, a store of its own in a temporary folder. */
function environment(t: ExecutionContext, extra: Record<string, string> = {}): NodeJS.ProcessEnv & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bot-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    BOT_STORE: `sqlite://${join(dir, 'bot.sqlite')}`,
    BOT_CONFIG: join(root, 'test/fixtures/cli-bot.config.ts'),
    ...extra,
  };
  for (const name of ['WECHAT_APPID', 'WECHAT_SECRET', 'WECHAT_TOKEN', 'WECHAT_AES_KEY']) if (!(name in extra)) delete env[name];
  return Object.assign(env, { dir });
}

/** Starts the bot and waits for the line that gives its callback URL. */
async function start(t: ExecutionContext, env: NodeJS.ProcessEnv) {
  const app = runApp(t, env);
  const url = (await app.until(/listening on (http:\/\/(?:localhost|127\.0\.0\.1):\d+\/wechat)/))[1]!.replace('localhost', '127.0.0.1');
  return {
    url,
    output: app.output,
    stop: async () => {
      app.child.kill('SIGTERM');
      return app.exited;
    },
  };
}

const run = (args: string[], env: NodeJS.ProcessEnv) =>
  promisify(execFile)('npm', ['run', '-s', ...args], { cwd: root, env, timeout: 30_000 });

test('npm start without an account runs the emulator, says so, and the simulator gets the campaign welcome', async (t) => {
  const env = environment(t);
  const bot = await start(t, env);
  t.regex(bot.output(), /EMULATOR MODE/);
  const subscribe = await run(['simulate', '--', 'subscribe', '--scene', 'spring-poster', '--url', bot.url], env);
  t.regex(subscribe.stdout, /^text: 感谢扫描春季海报关注！/);
  const click = await run(['simulate', '--', 'click', 'TODAY', '--url', bot.url], env);
  t.regex(click.stdout, /^text: 今日推荐/);
  const scan = await run(['simulate', '--', 'scan', '--scene', '1001', '--user', 'oAnotherUser', '--url', bot.url], env);
  t.regex(scan.stdout, /^text: 欢迎回来/);
  t.is(await bot.stop(), 0, 'SIGTERM stops it cleanly');
});

test('npm start without an account listens on 127.0.0.1 only, and says so', async (t) => {
  const bot = await start(t, environment(t));
  t.regex(bot.output(), /listening on http:\/\/127\.0\.0\.1:\d+\/wechat/);
  t.regex(bot.output(), /console: http:\/\/127\.0\.0\.1:\d+\/console/);
  // From another interface of this machine (when it has one), the port is closed.
  const other = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (other) await t.throwsAsync(fetch(bot.url.replace('127.0.0.1', other.address)), { message: /fetch failed/ });
  await bot.stop();
});

test('simulate --aes talks to a bot in safe mode', async (t) => {
  const env = environment(t, { WECHAT_AES_KEY: AES_KEY });
  const bot = await start(t, env);
  const result = await run(['simulate', '--', 'subscribe', '--aes', '--url', bot.url], env);
  t.regex(result.stdout, /^text: 欢迎关注/);
  await bot.stop();
});

test('npm run sync -- --dry-run prints what would change and changes nothing', async (t) => {
  const env = environment(t);
  const result = await run(['sync', '--', '--dry-run'], env);
  t.regex(result.stdout, /dry run: nothing was changed/);
  t.regex(result.stdout, /menu: would create/);
  t.regex(result.stdout, /campaign shopDoor: would create/);
});

test('npm run qr -- <campaign> writes its PNG and SVG', async (t) => {
  const env = environment(t);
  const out = join(env.dir, 'qr');
  const result = await run(['qr', '--', 'shopDoor', '--out', out], env);
  t.regex(result.stdout, /shopDoor: .*shopDoor\.png .*showqrcode\?ticket=/);
  t.true(existsSync(join(out, 'shopDoor.png')));
  t.true(existsSync(join(out, 'shopDoor.svg')));
  await t.throwsAsync(run(['qr', '--', 'noSuchCampaign', '--out', out], env), { message: /no campaign noSuchCampaign/ });
});

test('a malformed EncodingAESKey stops the start with a clear message, in plain words', async (t) => {
  const env = environment(t, { WECHAT_AES_KEY: 'too-short' });
  const error = (await t.throwsAsync(promisify(execFile)('npm', ['start'], { cwd: root, env, timeout: 20_000 }))) as {
    stderr?: string;
    code?: number;
  };
  t.is(error.code, 1, 'it ends by itself, with status 1');
  t.regex(String(error.stderr), /^cannot start: WECHAT_AES_KEY must be the 43 letters and digits/m);
  t.notRegex(String(error.stderr), /"level"|\n\s+at /, 'no JSON log line, no stack');
});

test('an invalid config stops the start with every problem and its path, in plain words', async (t) => {
  const env = environment(t);
  const file = join(env.dir, 'bot.config.ts');
  writeFileSync(
    file,
    `export default { menu: { button: [{ type: 'click', name: 'a', key: 'A' }, { type: 'view', name: 'b' }] }, campaigns: { c: { scene: 0, permanent: true } } };\n`,
  );
  const error = (await t.throwsAsync(
    promisify(execFile)('npm', ['start'], { cwd: root, env: { ...env, BOT_CONFIG: file }, timeout: 30_000 }),
  )) as { stderr?: string; code?: number };
  t.is(error.code, 1);
  t.regex(String(error.stderr), /cannot start: bot config is invalid:/);
  t.regex(String(error.stderr), /menu\.button\[1\]\.url: /);
  t.regex(String(error.stderr), /campaigns\.c\.scene: /);
  t.notRegex(String(error.stderr), /"level"|\n\s+at /, 'no JSON log line, no stack');
});

test('dev restarts the bot when the config changes, and stops with it', async (t) => {
  const env = environment(t);
  delete env.BOT_CONFIG; // ./bot.config.ts of the project folder, as in a project made by init
  const core = join(root, 'core/index.ts');
  const write = (welcome: string) =>
    writeFileSync(
      join(env.dir, 'bot.config.ts'),
      `import { defineConfig } from '${core}';\nexport default defineConfig({ welcome: '${welcome}' });\n`,
    );
  write('first welcome');
  mkdirSync(join(env.dir, 'plugins'));
  const dev = runApp(t, env, { command: 'dev', cwd: env.dir });
  const first = (await dev.until(/listening on (http:\/\/127\.0\.0\.1:\d+\/wechat)/))[1]!;
  t.regex((await run(['simulate', '--', 'subscribe', '--url', first], env)).stdout, /^text: first welcome/);
  write('second welcome');
  // The bot started again: a listening line after the notice.
  const second = (
    await dev.until(/bot\.config\.ts changed: restarting the bot[\s\S]*listening on (http:\/\/127\.0\.0\.1:\d+\/wechat)/)
  )[1]!;
  t.regex((await run(['simulate', '--', 'subscribe', '--user', 'oAnother', '--url', second], env)).stdout, /^text: second welcome/);
  // A plugin's folder is watched too.
  writeFileSync(join(env.dir, 'plugins', 'extra.ts'), 'export const extra = 1;\n');
  await dev.until(/plugins\/extra\.ts changed: restarting the bot/);
  dev.child.kill('SIGTERM');
  t.is(await dev.exited, 0);
});

test('every command has --help (exit 0); an unknown option prints the usage and exits 2', async (t) => {
  const bin = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'app/cli/bin.ts', ...args], { cwd: root });
  for (const command of ['start', 'dev', 'simulate', 'sync', 'qr', 'init']) {
    t.regex((await bin([command, '--help'])).stdout, new RegExp(`^usage: wechat-mp-bot ${command}`), command);
    const refused = (await t.throwsAsync(bin([command, '--no-such-option']))) as { code?: number; stderr?: string };
    t.is(refused.code, 2, command);
    t.regex(String(refused.stderr), /Unknown option '--no-such-option'[\s\S]*usage: wechat-mp-bot/, command);
    t.notRegex(String(refused.stderr), /\n\s+at /, 'no stack');
  }
  t.regex((await bin(['--help'])).stdout, /^usage: wechat-mp-bot <command>/);
  t.is(((await t.throwsAsync(bin(['nope']))) as { code?: number }).code, 2);
});

test('simulate --help lists every action; a photo button prints both answers; a missing field exits 2 naming it', async (t) => {
  const { ACTION_KINDS } = await import('../app/simulator.ts');
  const env = environment(t);
  const help = await run(['simulate', '--', '--help'], env);
  for (const kind of ACTION_KINDS) t.regex(help.stdout, new RegExp(`^  ${kind}\\b`, 'm'), kind);
  const bot = await start(t, env);
  const photo = await run(['simulate', '--', 'pic_photo_or_album', 'PHOTO', '--url', bot.url], env);
  t.is(photo.stdout, 'success (no reply)\ntext: 收到！我们会尽快回复你。\n');
  const place = await run(['simulate', '--', 'location', '--latitude', '39.9042', '--longitude', '116.4074', '--url', bot.url], env);
  t.is(place.stdout, 'text: 收到！我们会尽快回复你。\n');
  const missing = await run(['simulate', '--', 'location', '--latitude', '39.9', '--url', bot.url], env).catch((error: unknown) => error);
  t.like(missing, { code: 2 });
  t.regex((missing as { stderr: string }).stderr, /longitude .*location --latitude <latitude> --longitude <longitude>/);
  await bot.stop();
});

test('wechat-mp-bot emulator serves WeChat’s API on 127.0.0.1 for any client, prints its appid, secret and URL, and stops on SIGTERM', async (t) => {
  const app = runApp(t, { ...process.env }, { command: 'emulator' });
  const [, url] = await app.until(/WeChat emulator: (http:\/\/127\.0\.0\.1:\d+)/);
  const appid = (await app.until(/appid +(\S+)/))[1]!;
  const secret = (await app.until(/secret +(\S+)/))[1]!;
  const token = (await (await fetch(`${url}/cgi-bin/token?grant_type=client_credential&appid=${appid}&secret=${secret}`)).json()) as {
    access_token: string;
  };
  const menu = { button: [{ type: 'click', name: '今日', key: 'TODAY' }] };
  // As curl sends it, without a JSON content type.
  const created = await fetch(`${url}/cgi-bin/menu/create?access_token=${token.access_token}`, {
    method: 'POST',
    body: JSON.stringify(menu),
  });
  t.like(await created.json(), { errcode: 0 });
  t.like(await (await fetch(`${url}/cgi-bin/menu/get?access_token=${token.access_token}`)).json(), { menu });
  app.child.kill('SIGTERM');
  t.is(await app.exited, 0);
});
