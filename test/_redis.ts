// A redis-server of the test's own on a free loopback port. Without the binary, a developer sees
// which tests did not run and why; on CI (CI=true) that is a failure, never a silent skip.
import type { ExecutionContext, TestFn } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const binary = spawnSync('redis-server', ['--version']).status === 0;
export const redisAvailable = binary;

/** Registers a Redis test, or, without redis-server, a test that explains (and fails on CI). */
export function redisTest(test: TestFn, title: string, body: (t: ExecutionContext) => Promise<void>): void {
  if (binary) return void test(title, body);
  if (process.env.CI) return void test(title, (t) => t.fail('redis-server is not installed: .ci/run installs it with apt-get'));
  test(title, (t) => {
    t.log(`NOT RUN: redis-server is not installed (apt-get install redis-server). Skipped: ${title}`);
    t.pass();
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server (as a crash would). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

/** Starts redis-server on 127.0.0.1 (no persistence); the test stops it at its end. */
export async function startRedis(t: ExecutionContext): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 10_000;
    while (!output.includes('Ready to accept connections') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!output.includes('Ready to accept connections')) throw new Error(`redis-server did not start:\n${output}`);
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await launch();
  t.teardown(kill);
  return { url: `redis://127.0.0.1:${port}/0`, port, kill, restart: launch };
}

/** Every key of the server and its value as text, for checks that nothing personal remains. */
export async function dumpRedis(url: string): Promise<string> {
  const { createClient } = await import('@keyv/redis');
  const client = createClient({ url });
  await client.connect();
  let text = '';
  for await (const keys of client.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) text += `${key}=${(await client.type(key)) === 'string' ? await client.get(key) : '(non-string)'}\n`;
  }
  await client.quit();
  return text;
}

/**
 * Watches the commands clients send to the server (redis-cli MONITOR), leaving out those a Lua
 * script runs inside the server: what a test counts as round trips. Stopped at the test's end.
 */
export async function monitorRedis(t: ExecutionContext, server: RedisServer): Promise<{ commands(): string[]; reset(): void }> {
  const child = spawn('redis-cli', ['-p', String(server.port), 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let seen: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    // `1700000000.123456 [0 127.0.0.1:50000] "SET" …`; a script's own calls say [0 lua].
    for (const line of lines) if (/^\d+\.\d+ \[\d+ (?!lua\])/.test(line)) seen.push(line.replace(/^\S+ \[[^\]]+\] /, ''));
  });
  const deadline = Date.now() + 5000;
  while (!buffered.includes('OK') && seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { commands: () => seen, reset: () => void (seen = []) };
}
