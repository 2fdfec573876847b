// What the benchmarks share: a target in a process of its own, a free port, a process's CPU time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname;

/** Where bad-day.ts writes its section of BENCHMARKS.md, which run.ts keeps when it writes the rest. */
export const BAD_DAY_BEGIN = '<!-- bad-day -->';
export const BAD_DAY_END = '<!-- /bad-day -->';

/** The section between the markers in a BENCHMARKS.md text, or '' when there is none. */
export function badDaySection(text: string): string {
  const start = text.indexOf(BAD_DAY_BEGIN);
  const end = text.indexOf(BAD_DAY_END);
  return start < 0 || end < start ? '' : text.slice(start, end + BAD_DAY_END.length);
}

/** Starts test/bench/targets/<file> with the extra environment; resolves once it says READY <port>. */
export async function startTarget(file: string, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  // BENCH_CPU_PROF=<dir>: each target writes a V8 CPU profile there (open it in Chrome's DevTools).
  // A profile is written only on a normal exit, so such a target exits on SIGTERM (stop() sends it).
  const profile = process.env.BENCH_CPU_PROF
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`,
        '--import',
        'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))',
      ]
    : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', `test/bench/targets/${file}`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /READY (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** A SQLite store in a folder of its own under the system's temporary one: its URL, the bytes its files hold (the log too), and their removal. */
export function sqliteScratch(): { url: string; bytes(): number; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
  return {
    url: `sqlite://${join(dir, 'bot.sqlite')}`,
    bytes: () => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(process.env.BENCH_CPU_PROF ? 'SIGTERM' : 'SIGKILL');
  await exited;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** CPU time a process has used so far, in µs, from /proc (Linux; elsewhere undefined). */
export function cpuTimeOf(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** A process's resident memory, in bytes, from /proc (Linux; elsewhere undefined). */
export function rssOf(pid: number | undefined): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
