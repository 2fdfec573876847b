// Debian's Chromium driven by playwright-core. Without it a developer sees which tests did not
// run and why; on CI (CI=true) that is a failure, never a silent skip.
import type { ExecutionContext, TestFn } from 'ava';
import { existsSync, mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);

/** Screenshots land here (ignored by git), so a person can look at what the tests saw. */
export const ARTIFACTS = new URL('../test-artifacts/', import.meta.url).pathname;

export function browserTest(test: TestFn, title: string, body: (t: ExecutionContext, browser: Browser) => Promise<void>): void {
  if (!available) {
    if (process.env.CI) return void test(title, (t) => t.fail('chromium is not installed: .ci/run installs it with apt-get'));
    return void test(title, (t) => {
      t.log(`NOT RUN: ${CHROMIUM} is not installed (apt-get install chromium). Skipped: ${title}`);
      t.pass();
    });
  }
  test(title, async (t) => {
    const { chromium } = await import('playwright-core');
    // The closed network refuses Chromium's background connections: keep them off.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    t.teardown(() => browser.close());
    mkdirSync(ARTIFACTS, { recursive: true });
    await body(t, browser);
  });
}
