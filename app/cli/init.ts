// wechat-mp-bot init <dir> [--package <spec>]: creates a bot project that depends on the framework.
import { cpSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArgs, UsageError } from './args.ts';
import { ownPackage } from './package-info.ts';

export const USAGE = `usage: wechat-mp-bot init <dir> [options]
Creates a bot project in <dir> (new, or empty): package.json, bot.config.ts, an example plugin,
test/bot.test.ts, .env.example, .gitignore, a README. Then: cd <dir> && npm install && npm start
options:
  --package <spec>   what the project depends on: a version range (the default: this version),
                     or a tarball or folder of an unpublished build (npm pack)
  -h, --help         this text`;

// npm leaves dot files out of a package: the template keeps them under other names.
const RENAMED: Record<string, string> = { gitignore: '.gitignore', 'env.example': '.env.example' };

/** Writes the project; exit status 0. */
export async function initCommand(argv: string[]): Promise<number> {
  const { values, positionals } = readArgs(argv, { usage: USAGE, positionals: true, options: { package: { type: 'string' } } });
  const [dir, ...extra] = positionals;
  if (!dir || extra.length > 0) throw new UsageError(`init takes one folder\n\n${USAGE}`);
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${dir} is not empty: init writes a new project`);
  const own = ownPackage();
  cpSync(fileURLToPath(new URL('./template/', import.meta.url)), target, { recursive: true });
  for (const [from, to] of Object.entries(RENAMED)) renameSync(resolve(target, from), resolve(target, to));
  writeFileSync(
    resolve(target, 'package.json'),
    `${JSON.stringify(projectPackage(basename(target), dependency(values.package, own.version)), null, 2)}\n`,
  );
  console.log(`created a bot in ${dir}. Next:\n  cd ${dir}\n  npm install\n  npm start`);
  return 0;
}

// A version range as it is; a path (a tarball, a folder) as an absolute file: spec, so the
// project installs the same build from wherever it is.
function dependency(spec: string | undefined, version: string): string {
  if (spec === undefined) return `^${version}`;
  const path = spec.startsWith('file:') ? spec.slice(5) : spec;
  const local = spec.startsWith('file:') || spec.startsWith('.') || isAbsolute(spec) || /\.(tgz|tar\.gz)$/.test(spec);
  return local ? `file:${resolve(path)}` : spec;
}

function projectPackage(name: string, spec: string) {
  return {
    name: name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-'),
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      start: 'wechat-mp-bot start',
      dev: 'wechat-mp-bot dev',
      test: 'tsc --noEmit && ava',
      simulate: 'wechat-mp-bot simulate',
      sync: 'wechat-mp-bot sync',
      qr: 'wechat-mp-bot qr',
    },
    dependencies: { 'wechat-mp-bot': spec },
    devDependencies: { '@types/node': '^20.19.0', ava: '^7.0.0', tsx: '^4.20.0', typescript: '^7.0.2' },
    // npm 11 runs install scripts only of packages listed here: the store's SQLite driver builds on install.
    allowScripts: { 'better-sqlite3': true, esbuild: true },
    // ava runs the TypeScript tests through tsx, in child processes (tsx does not reach worker threads).
    ava: { extensions: { ts: 'module' }, nodeArguments: ['--import=tsx'], workerThreads: false },
  };
}
