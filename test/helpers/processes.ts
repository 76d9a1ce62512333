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

/** Entries of the temp folder whose names start with `prefix`. */
export function tempEntries(prefix: string): string[] {
  return readdirSync(os.tmpdir()).filter((e) => e.startsWith(prefix));
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

/** eventbench's CPU cgroups whose owner is gone (on any host of this machine): what a run must never leave behind. */
export function orphanCgroups(): string[] {
  const root = detectCgroup().root;
  if (!root) return [];
  return readdirSync(root).filter((n) => {
    const owner = /^eventbench-(\d+)-\d+$/.exec(n)?.[1];
    return owner !== undefined && !alive(Number(owner));
  });
}
