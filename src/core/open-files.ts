// The one home of the open-files limit: each connection costs a descriptor in the client and in the server, so
// the soft RLIMIT_NOFILE, less what a process keeps for itself, bounds the load; and the one command that raises it.
import { readFileSync } from 'node:fs';

/** Descriptors a process keeps for itself (stdio, its modules, its pipes) beside its connections. */
export const RESERVED_FILES = 64;

/** The command that raises the limit. */
export const OPEN_FILES_FIX = 'ulimit -n 65536 (in the shell that runs eventbench)';

/** The soft limit on open files, from /proc/self/limits (undefined where unreadable). */
export function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/** The most connections `files` descriptors allow one process. */
export function connectionsAllowed(files: number): number {
  return Math.max(1, files - RESERVED_FILES);
}
