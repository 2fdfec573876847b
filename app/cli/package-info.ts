import { readFileSync } from 'node:fs';

/** The framework's own package.json: its name and version. */
export interface OwnPackage {
  name: string;
  version: string;
}

/**
 * Reads the framework's package.json, found by walking up from this file: the same code runs from
 * the repository's TypeScript (app/cli/) and from the package's compiled JS (dist/app/cli/).
 * @example
 * ownPackage().version // '0.2.0'
 */
export function ownPackage(): OwnPackage {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const found = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as OwnPackage;
      if (found.name === 'wechat-mp-bot') return found;
    } catch {
      // not here: one folder up
    }
    if (dir.pathname === '/') throw new Error('the package.json of wechat-mp-bot was not found');
  }
}
