// Looking at processes from tests, through /proc: which servers this test process started, what they hold open.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { allProcStats, alive, type ProcStat } from '../../src/core/proc.js';
import { detectCgroup } from '../../src/host/throttle.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  cmdline: string;
}

function info(s: ProcStat): ProcessInfo | undefined {
  try {
    const cmdline = readFileSync(`/proc/${s.pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
    return { pid: s.pid, state: s.state, ppid: s.ppid, pgid: s.pgid, cmdline };
  } catch {
    return undefined; // it ended while we looked
  }
}

export function allProcesses(): ProcessInfo[] {
  return allProcStats()
    .map(info)
    .filter((p): p is ProcessInfo => !!p);
}

// Test files run side by side (scripts/test.sh), so "nothing is left" must look at this file's processes only.
// Every process a test file starts inherits this mark from it (set when this module loads, before any test
// starts one; a helper run as a child keeps its parent's).
const FILE_MARK = 'EVENTBENCH_TEST_FILE';
process.env[FILE_MARK] ??= String(process.pid);
const mark = `${FILE_MARK}=${process.env[FILE_MARK]}`;

/** Whether `pid` carries `entry` ("NAME=value") in its environment. */
export function carries(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry);
  } catch {
    return false; // gone, or not ours to read
  }
}

/** Whether `pid` was started by this test file (it carries the file's mark), whoever its parent is now. */
export const startedHere = (pid: number): boolean => carries(pid, mark);

/** Live processes started by this test file whose command line contains any of `needles`. */
export function startedHereMatching(...needles: string[]): ProcessInfo[] {
  return allProcesses().filter((p) => p.state !== 'Z' && needles.some((n) => p.cmdline.includes(n)) && startedHere(p.pid));
}

/** Live children of `parent` (this process by default) whose command line contains `needle`. */
export function childrenMatching(needle: string, parent = process.pid): ProcessInfo[] {
  return allProcesses().filter((p) => p.ppid === parent && p.state !== 'Z' && p.cmdline.includes(needle));
}

/** The one server process this test started whose command line contains `needle`. */
export function serverProcess(needle: string): ProcessInfo {
  const found = childrenMatching(needle);
  if (found.length !== 1) throw new Error(`expected one child process matching ${needle}, found ${found.length}`);
  return found[0] as ProcessInfo;
}

/** Every process of group `pgid` still alive (zombies included: they are the leak we look for). */
export function groupProcesses(pgid: number): ProcessInfo[] {
  return allProcesses().filter((p) => p.pgid === pgid);
}

/** Number of open descriptors of `pid`. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What each open descriptor of `pid` points at (a socket, a pipe, a file), to say what a leak is. */
export function fdTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '?';
    }
  });
}

/** Socket descriptors of `pid`. */
export function socketCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
}

/** Entries of the temp folder (or of `dir`) whose names start with `prefix`. */
export function tempEntries(prefix: string, dir = os.tmpdir()): string[] {
  return readdirSync(dir).filter((e) => e.startsWith(prefix));
}

/**
 * A count (of descriptors, say) once it has settled: two looks `gapMs` apart agree, or the last of 15 looks. The gap
 * must outlast what a server still holds for a moment (Go's net/http keeps a finished connection 500 ms).
 */
export async function settledCount(count: () => number, gapMs = 200): Promise<number> {
  let last = -1;
  for (let i = 0; i < 15; i++) {
    const now = count();
    if (now === last) return now;
    last = now;
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return last;
}

/** Polls `check` every 25 ms until it returns true or `withinMs` passes; returns its last answer. */
export async function eventually(check: () => boolean, withinMs = 3000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * eventbench's CPU cgroups whose owner is gone (on any host of this machine), or of the given owners only (when
 * other test files run beside this one): what a run must never leave behind.
 */
export function orphanCgroups(owners?: number[]): string[] {
  const root = detectCgroup().root;
  if (!root) return [];
  return readdirSync(root).filter((n) => {
    const owner = Number(/^eventbench-(\d+)-\d+$/.exec(n)?.[1] ?? Number.NaN);
    return Number.isInteger(owner) && !alive(owner) && (owners === undefined || owners.includes(owner));
  });
}
