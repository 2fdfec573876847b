// wechat-mp-bot dev: runs `start` as a child process and starts it again when a file changes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readArgs } from './args.ts';

export const USAGE = `usage: wechat-mp-bot dev
Runs the bot as start does, and restarts it when a file of the project changes (the config, a
plugin, .env); node_modules, data, dist, qr, test and .git are not watched.
options:
  -h, --help   this text`;

// What never calls for a restart: dependencies, the store's files, build output, codes, tests.
const IGNORED_FOLDERS = new Set(['node_modules', 'data', 'dist', 'qr', 'test', '.git']);
const IGNORED_FILES = /\.sqlite(-wal|-shm|-journal)?$/;
const SETTLE_MS = 150; // an editor's save is often several writes

/** Runs the bot and restarts it on changes, until SIGINT or SIGTERM. */
export async function devCommand(argv: string[]): Promise<number> {
  readArgs(argv, { usage: USAGE });
  const bin = fileURLToPath(new URL(`./bin${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
  let child: ChildProcess | undefined;
  let stopping = false;
  const run = () => {
    // The same Node options (a TypeScript loader in the repository), the same environment.
    child = spawn(process.execPath, [...process.execArgv, bin, 'start'], { stdio: 'inherit' });
    child.once('exit', (code, signal) => {
      if (!stopping && signal === null) console.error(`the bot exited (${code}); waiting for a change to start it again`);
    });
  };
  const stopChild = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  let timer: NodeJS.Timeout | undefined;
  const changed = (file: string | null) => {
    if (!file || IGNORED_FILES.test(file)) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      console.error(`${file} changed: restarting the bot`);
      await stopChild();
      if (!stopping) run();
    }, SETTLE_MS);
  };
  // The project's own files and folders: node_modules holds thousands of folders, each of which a
  // recursive watch of the whole project would watch.
  const watchers: FSWatcher[] = [watch('.', (_event, file) => (file && IGNORED_FOLDERS.has(file) ? undefined : changed(file)))];
  for (const entry of readdirSync('.', { withFileTypes: true })) {
    if (entry.isDirectory() && !IGNORED_FOLDERS.has(entry.name)) {
      watchers.push(watch(entry.name, { recursive: true }, (_event, file) => changed(file && `${entry.name}/${file}`)));
    }
  }
  run();
  return new Promise<number>((resolve) => {
    const stop = async () => {
      stopping = true;
      for (const watcher of watchers) watcher.close();
      clearTimeout(timer);
      await stopChild();
      resolve(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  });
}
