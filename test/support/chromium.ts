// Debian's chromium driven by playwright-core, for tests of pages: no browser is ever
// downloaded; a missing chromium fails the test with the command that installs it. Each
// launch gets a fresh profile folder, removed on close.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface Browser {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Errors the page threw or logged (a test asserts there are none). */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1400, height: 820 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or run npm test, which installs it)`);
  const profile = await mkdtemp(join(tmpdir(), 'sy-chromium-'));
  // playwright-core takes the profile folder itself (it refuses --user-data-dir among the flags).
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport, timeout: 60_000 });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  return {
    page,
    context,
    pageErrors,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
