// A production server's site: the temporary folder that holds its configuration and the page, and the user it runs
// as when started as root, who must be able to reach the page.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServerError } from '../../core/errors.js';
import { pageBody } from '../page.js';
import type { ServeOptions } from '../types.js';

/** The user a server started as root becomes (Debian's web-server user). */
export const SERVER_USER = 'www-data';

/** uid and gid of `name` from /etc/passwd, or undefined. */
function lookUpUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const fields = line?.split(':');
    return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first folder on the way to `dir` (from `/` down) that `user` may not enter (no x bit for it: owner's, group's
 * or others', as the kernel picks), or undefined. Supplementary groups are not looked at.
 */
function closedTo(dir: string, user: { uid: number; gid: number }): { folder: string; mode: number; uid: number } | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    const st = statSync(folder);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return { folder, mode: st.mode & 0o7777, uid: st.uid };
  }
  return undefined;
}

/** What a configuration writer is given. */
export interface Site {
  /** The temporary folder, readable by every user (the server may drop root privileges to www-data). */
  dir: string;
  /** dir/www, holding index.html. */
  docRoot: string;
  port: number;
  options: ServeOptions;
  /** dir/run: logs and pid files, writable by the user the server runs as. */
  runDir: string;
  /** Whether the server is started as root, and so must be told which user (SERVER_USER) to become. */
  asRoot: boolean;
}

/** A server's temporary folder is named after its model and the process that owns it: a folder whose owner is gone is a leftover (see host/leftovers.ts). */
export function tempPrefix(model: string, ownerPid = process.pid): string {
  return `eventbench-${model}-${ownerPid}-`;
}

/**
 * A server's fresh site: its temporary folder with the page as www/index.html and a run folder the server may write
 * (owned by SERVER_USER when started as root). The caller removes `dir`.
 */
export function prepareSite(spec: { name: string }, options: ServeOptions, port: number): Site {
  const dir = mkdtempSync(path.join(os.tmpdir(), tempPrefix(spec.name)));
  chmodSync(dir, 0o755);
  const docRoot = path.join(dir, 'www');
  mkdirSync(docRoot, { mode: 0o755 });
  writeFileSync(path.join(docRoot, 'index.html'), pageBody(options.pageBytes), { mode: 0o644 });
  const runDir = path.join(dir, 'run');
  mkdirSync(runDir, { mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // Servers drop root for SERVER_USER before some of them open their logs and pid files.
    const user = lookUpUser(SERVER_USER);
    if (!user)
      throw new ServerError(
        `${spec.name}: started as root, it needs the user ${SERVER_USER} to run as; create it or run eventbench as another user`,
      );
    const closed = closedTo(docRoot, user);
    if (closed) {
      rmSync(dir, { recursive: true, force: true });
      throw new ServerError(
        `${spec.name}: its workers run as ${SERVER_USER} and cannot enter ${closed.folder} (mode ${closed.mode.toString(8).padStart(4, '0')}, ` +
          `owner uid ${closed.uid}), on the way to the page in ${dir}: it would answer 403. ` +
          `TMPDIR is ${process.env.TMPDIR ?? '(unset)'}: set it to a folder every user can enter, such as /tmp`,
      );
    }
    chownSync(runDir, user.uid, user.gid);
  }
  return { dir, docRoot, runDir, port, options, asRoot };
}
