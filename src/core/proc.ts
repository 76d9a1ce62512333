// The one reader of /proc/PID/stat, and the one safe way to signal a process or a process group: everything
// that looks at or ends another process (the sampler, the trial, spawned servers, the ab engine, the tests) uses it.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** One process's /proc/PID/stat, the fields eventbench reads. */
export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), X (dead)... */
  state: string;
  ppid: number;
  pgid: number;
  /** The process's own CPU time (its threads, live and ended) in user and kernel mode, clock ticks (clockTicksPerS). */
  utime: number;
  stime: number;
  /** CPU time of its reaped children in user and kernel mode, clock ticks. */
  cutime: number;
  cstime: number;
  threads: number;
  rssPages: number;
}

/** Parses the text of /proc/PID/stat; comm may hold spaces and parentheses, so fields are split after the last ')'. */
export function parseProcStat(pid: number, text: string): ProcStat {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); field n of proc(5) is f[n - 3].
  const n = (i: number) => Number(f[i] ?? 0);
  return {
    pid,
    state: f[0] ?? '?',
    ppid: n(1),
    pgid: n(2),
    utime: n(11),
    stime: n(12),
    cutime: n(13),
    cstime: n(14),
    threads: n(17),
    rssPages: n(21),
  };
}

/** /proc/PID/stat of `pid` ('self' for this process), or undefined when it is gone. */
export function procStat(pid: number | 'self'): ProcStat | undefined {
  try {
    return parseProcStat(pid === 'self' ? process.pid : pid, readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined; // it ended while we looked
  }
}

/** Every process's stat (zombies included). */
export function allProcStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** Whether a process still runs; a zombie does not (pid 1 may take a second or more to reap orphans). */
export function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Live (non-zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return allProcStats()
    .filter((s) => s.pgid === pgid && s.state !== 'Z' && s.state !== 'X')
    .map((s) => s.pid);
}

function getconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}
let ticks: number | undefined;
let page: number | undefined;
/** Clock ticks per second of the times in /proc/PID/stat (CLK_TCK; 100 on most kernels, not all). */
export function clockTicksPerS(): number {
  ticks ??= getconf('CLK_TCK', 100);
  return ticks;
}
/** Bytes of a memory page, the unit of rss in /proc/PID/stat. */
export function pageSizeBytes(): number {
  page ??= getconf('PAGESIZE', 4096);
  return page;
}

/**
 * Sends `signal` to `pid` (a negative `pid` is the process group -pid). Refuses what could hit the caller or the
 * system: pid 0, 1 and -1 (a `kill(0)` is the caller's own group: a test runner that killed itself without a
 * report), this process and its group, and a process or group not started by this process's descendants when
 * `ownedBy` is given. Returns whether a signal was sent.
 */
export function signalProcess(pid: number, signal: NodeJS.Signals, ownedBy?: number): boolean {
  const target = Math.abs(pid);
  if (!Number.isInteger(pid) || target <= 1 || target === process.pid) return false;
  if (pid < 0 && target === procStat('self')?.pgid) return false;
  if (ownedBy !== undefined && !descendsFrom(target, ownedBy)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

/** Whether `pid` is `ancestor` or one of its descendants (still attached to it). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    p = procStat(p)?.ppid;
  }
  return false;
}

/** Every live descendant of `root`, root included (a full /proc scan, so it needs no kernel option). */
export function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const s of allProcStats()) {
    if (s.state === 'Z' || s.state === 'X') continue;
    kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), s.pid]);
  }
  const out: number[] = [];
  const queue = alive(root) ? [root] : [];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/**
 * Signals `root` and every descendant, guarded as above (and refused when `root` does not descend from `ownedBy`).
 * The tree is frozen first, so that nothing forks or is reparented out of reach while it is signalled.
 */
export function killTree(root: number, signal: NodeJS.Signals = 'SIGKILL', ownedBy?: number): void {
  if (root <= 1 || (ownedBy !== undefined && !descendsFrom(root, ownedBy))) return;
  const tree = descendants(root);
  for (const pid of tree) signalProcess(pid, 'SIGSTOP'); // freeze the tree so nothing forks while we kill it
  for (const pid of tree.reverse()) signalProcess(pid, signal);
  for (const pid of tree) signalProcess(pid, 'SIGCONT');
}

/** A thread's exact CPU time so far from /proc/PID/task/TID/sched (se.sum_exec_runtime, ms with ns digits), s. */
function threadRuntimeS(pid: number, tid: string): number | undefined {
  try {
    const m = /^se\.sum_exec_runtime\s*:\s*([\d.]+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/sched`, 'latin1'));
    return m ? Number(m[1]) / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds `pid` has used, as exactly as the kernel tells: its live threads' runtimes to the nanosecond, plus
 * its ended threads and its reaped children at clock-tick precision (/proc/PID/stat keeps only those). The
 * stat times alone move in 10 ms steps, so a short point on a light server read 0. Undefined when it is gone.
 */
export function cpuSeconds(pid: number): number | undefined {
  const s = procStat(pid);
  if (!s) return undefined;
  const hz = clockTicksPerS();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let liveS = 0;
  let liveTicks = 0;
  for (const tid of tids) {
    const runtime = threadRuntimeS(pid, tid);
    const t = procStat(Number(tid));
    if (runtime === undefined || !t) return (s.utime + s.stime + s.cutime + s.cstime) / hz; // no sched file: ticks only
    liveS += runtime;
    liveTicks += t.utime + t.stime;
  }
  const endedThreadsTicks = Math.max(0, s.utime + s.stime - liveTicks);
  return liveS + (endedThreadsTicks + s.cutime + s.cstime) / hz;
}

export interface TreeStat {
  ppid: number;
  cpuTicks: number;
  threads: number;
  rssBytes: number;
}

/** A live process's stat, or undefined for a zombie or a process gone. */
export function treeStat(pid: number): TreeStat | undefined {
  const s = procStat(pid);
  if (!s || s.state === 'Z' || s.state === 'X') return undefined;
  // Reaped children's time lands in the parent (cutime, cstime), so fork-per-connection counts.
  return { ppid: s.ppid, cpuTicks: s.utime + s.stime + s.cutime + s.cstime, threads: s.threads, rssBytes: s.rssPages * pageSizeBytes() };
}

/** Every live descendant of `root`, root included, via /proc/PID/task/TID/children (or a full /proc scan). */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  let scanned: Map<number, number[]> | undefined;
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!treeStat(pid)) continue;
    out.push(pid);
    let kids: number[] | undefined;
    try {
      kids = [];
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (text) kids.push(...text.split(/\s+/).map(Number));
      }
    } catch {
      kids = undefined;
    }
    if (!kids) {
      scanned ??= parentsMap();
      kids = scanned.get(pid) ?? [];
    }
    queue.push(...kids);
  }
  return out;
}

function parentsMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = treeStat(Number(name));
    if (!s) continue;
    const list = map.get(s.ppid) ?? [];
    list.push(Number(name));
    map.set(s.ppid, list);
  }
  return map;
}
