// Opens pages in Debian's own Chromium (never a downloaded browser), headless, with a fresh profile that is
// removed afterwards, and no background traffic to anywhere.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** Runs `use` with a browser context, and always closes the browser and removes its profile. */
export async function withBrowser<T>(use: (context: BrowserContext) => Promise<T>, viewport = { width: 1280, height: 900 }): Promise<T> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'eventbench-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  try {
    return await use(context);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
