// What a run killed with -9 leaves behind, removed by the next `run` or `doctor`, which say so: its cgroups (CPU and
// memory), the temporary configuration folders of its production servers (the servers themselves die with their
// launcher: servers/spawned.ts), the page folders of user servers, and the folders of its ssh master sockets. Each
// is named after the pid that made it; only those whose owner is gone are touched.
import { readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive } from '../core/proc.js';
import { productionModels } from '../servers/external/index.js';
import { tempPrefix } from '../servers/external/site.js';
import { removeStaleCgroups, V1_ACCT_ROOT } from './throttle.js';
import { removeStaleMemoryCgroups } from './memory-cgroup.js';
import { SSH_DIR_PREFIX } from './protocol.js';

/** Removes the temporary folders of production and user servers whose owner is gone; one line per folder. */
export function removeStaleTempFolders(dir = os.tmpdir()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const said: string[] = [];
  // A user's server keeps its page in a folder named like a production server's (servers/user/model.ts).
  for (const model of [...productionModels, { name: 'user' }]) {
    const pattern = new RegExp(`^${tempPrefix(model.name, 0).replace(/0-$/, '')}(\\d+)-[A-Za-z0-9]{6}$`);
    for (const name of entries) {
      const owner = Number(pattern.exec(name)?.[1] ?? NaN);
      if (!Number.isInteger(owner) || alive(owner)) continue;
      try {
        rmSync(path.join(dir, name), { recursive: true, force: true });
        said.push(`removed ${path.join(dir, name)}, the folder of a ${model.name} started by eventbench pid ${owner}, which is gone`);
      } catch (err) {
        said.push(`could not remove ${path.join(dir, name)} (left by eventbench pid ${owner}): ${(err as Error).message}`);
      }
    }
  }
  return said;
}

/** Whether `p` belongs to the user this process runs as. */
function ours(p: string): boolean {
  try {
    return statSync(p).uid === process.getuid?.();
  } catch {
    return false;
  }
}

/** Removes the folders of ssh master sockets (host/link.ts) whose eventbench process is gone; one line per folder. */
export function removeStaleSshFolders(dir = os.tmpdir()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${SSH_DIR_PREFIX}(\\d+)-[A-Za-z0-9]{6}$`);
  const said: string[] = [];
  for (const name of entries) {
    const owner = Number(pattern.exec(name)?.[1] ?? NaN);
    // Another user's folder (its pid may be gone from our view, or reused) is theirs to remove: left alone.
    if (!Number.isInteger(owner) || !ours(path.join(dir, name)) || alive(owner)) continue;
    try {
      rmSync(path.join(dir, name), { recursive: true, force: true });
      said.push(`removed ${path.join(dir, name)}, the ssh sockets of eventbench pid ${owner}, which is gone`);
    } catch (err) {
      said.push(`could not remove ${path.join(dir, name)} (left by eventbench pid ${owner}): ${(err as Error).message}`);
    }
  }
  return said;
}

/** Everything a killed run left behind, removed; one line per thing, for the user. */
export function removeLeftovers(): string[] {
  return [
    ...removeStaleCgroups(),
    ...removeStaleCgroups(V1_ACCT_ROOT),
    ...removeStaleMemoryCgroups(),
    ...removeStaleTempFolders(),
    ...removeStaleSshFolders(),
  ];
}
