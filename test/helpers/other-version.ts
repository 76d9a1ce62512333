// A real eventbench of another version, for the version checks of agents: this build copied into a temporary folder
// beside a package.json that says 0.0.1-other. `command` starts it (what --remote-eventbench takes); `remove` deletes it.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url));

export const OTHER_VERSION = '0.0.1-other';

export function otherVersion(): { command: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eventbench-other-'));
  cpSync(path.join(CHECKOUT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(CHECKOUT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  symlinkSync(path.join(CHECKOUT, 'node_modules'), path.join(dir, 'node_modules'));
  const pkg = JSON.parse(readFileSync(path.join(CHECKOUT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version: OTHER_VERSION }));
  const command = `${process.execPath} ${path.join(dir, 'bin', 'eventbench.js')}`;
  return { command, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
