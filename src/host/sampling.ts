// What the server's host watches of a server, read from /proc and ss: the whole process tree's CPU time, summed
// resident memory (PSS for the memory experiment), process and thread counts; the kernel's accept-queue counters,
// the server's own accept queue and connections; the backlog in force.
import { readFileSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { cappedBacklog } from '../core/backlog.js';
import { GUARD_NAME } from '../servers/spawned.js';
import { clockTicksPerS, cpuSeconds, pageSizeBytes, procStat, treeStat, type ProcStat } from '../core/proc.js';

import type { TreeMemory } from './hosts.js';

export interface TreeSample {
  pids: number[];
  cpuS: number;
  rssBytes: number;
  processes: number;
  threads: number;
}

const guards = new Map<number, boolean>();
/** Whether `pid` is the guard shell a production server runs under (servers/spawned.ts): not the server measured. */
export function isGuard(pid: number): boolean {
  let known = guards.get(pid);
  if (known === undefined) {
    try {
      known = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[3] === GUARD_NAME;
    } catch {
      known = false;
    }
    if (guards.size > 10_000) guards.clear();
    guards.set(pid, known);
  }
  return known;
}

/**
 * One look at a server's processes. `excludePid` is left out of memory and counts (not of CPU, which it spends
 * from the server's quota): the node wrapper of a native or production server, which is not the server measured,
 * and the guard shell between it and a production server.
 * `exactCpu` reads every thread's runtime (cpuSeconds): for the first and last looks, whose difference is the CPU
 * a point used; the looks in between, for peaks, read the cheaper clock ticks.
 */
export function sampleProcesses(pids: Iterable<number>, excludePid?: number, exactCpu = false): TreeSample {
  const seen: number[] = [];
  let cpu = 0,
    rss = 0,
    processes = 0,
    threads = 0;
  for (const pid of new Set(pids)) {
    const s = treeStat(pid);
    if (!s) continue;
    seen.push(pid);
    cpu += (exactCpu ? cpuSeconds(pid) : undefined) ?? s.cpuTicks / clockTicksPerS();
    if (pid === excludePid || (excludePid !== undefined && s.ppid === excludePid && isGuard(pid))) continue;
    rss += s.rssBytes;
    processes += 1;
    threads += s.threads;
  }
  return { pids: seen, cpuS: cpu, rssBytes: rss, processes, threads };
}

/** Samples a server's tree every `intervalMs` until stopped; keeps the peaks and the CPU used in between. */
export class TreeSampler {
  private timer: NodeJS.Timeout | undefined;
  private first: TreeSample;
  private last: TreeSample;
  private peakRss = 0;
  private peakProcesses = 0;
  private peakThreads = 0;
  private startedAtMs = performance.now();
  /** Cumulative CPU seconds of the tree against the wall clock (Date.now(), ms), one entry per sample. */
  private readonly cpuSeries: { atMs: number; cpuS: number }[] = [];

  /**
   * `pids` lists the server's processes now (its tree, and its cgroup members when it has one); `groupCpuS`, where
   * the server runs in a cgroup that counts CPU time, reads that count: exact, and it keeps the time of threads
   * and processes that ended (a thread or a fork per connection), which a scan of the live ones loses.
   */
  constructor(
    private readonly pids: () => Iterable<number>,
    private readonly excludePid?: number,
    private readonly groupCpuS?: () => number | undefined,
  ) {
    this.first = this.last = this.take();
  }

  private take(exactCpu = false): TreeSample {
    const scanned = sampleProcesses(this.pids(), this.excludePid, exactCpu);
    const group = this.groupCpuS?.();
    const s = group === undefined ? scanned : { ...scanned, cpuS: group };
    if (s.pids.length > 0) {
      this.peakRss = Math.max(this.peakRss, s.rssBytes);
      this.peakProcesses = Math.max(this.peakProcesses, s.processes);
      this.peakThreads = Math.max(this.peakThreads, s.threads);
      this.last = s;
      this.cpuSeries.push({ atMs: Date.now(), cpuS: s.cpuS });
    }
    return s;
  }

  start(intervalMs = 100): void {
    this.first = this.take(true);
    this.startedAtMs = performance.now();
    this.timer = setInterval(() => this.take(), intervalMs);
    this.timer.unref();
  }

  stop(): { cpuS: number; cpuShare: number; peakRssBytes: number; peakProcesses: number; peakThreads: number } {
    if (this.timer) clearInterval(this.timer);
    this.take(true);
    const wallS = (performance.now() - this.startedAtMs) / 1000;
    const cpuS = Math.max(0, this.last.cpuS - this.first.cpuS);
    return {
      cpuS,
      cpuShare: wallS > 0 ? cpuS / wallS : 0,
      peakRssBytes: this.peakRss,
      peakProcesses: this.peakProcesses,
      peakThreads: this.peakThreads,
    };
  }

  /**
   * The tree's CPU share (1 = a core) between two wall-clock times (Date.now() ms), read off the samples by
   * linear interpolation: the share while the client was really loading it, without the client's own start and exit.
   * Undefined when the span is not covered by two samples (100 ms apart).
   */
  cpuShareBetween(fromMs: number, toMs: number): number | undefined {
    const at = (t: number): number | undefined => {
      const xs = this.cpuSeries;
      if (xs.length < 2 || t < xs[0]!.atMs || t > xs[xs.length - 1]!.atMs) return undefined;
      let i = 1;
      while (xs[i]!.atMs < t) i++;
      const a = xs[i - 1]!,
        b = xs[i]!;
      return b.atMs === a.atMs ? b.cpuS : a.cpuS + ((b.cpuS - a.cpuS) * (t - a.atMs)) / (b.atMs - a.atMs);
    };
    const a = at(fromMs),
      b = at(toMs);
    return a === undefined || b === undefined || toMs <= fromMs ? undefined : ((b - a) * 1000) / (toMs - fromMs);
  }

  /** Resident memory at the first look (the idle server), bytes. */
  get idleRssBytes(): number {
    return this.first.rssBytes;
  }
}

export interface ListenCounters {
  overflows: number;
  drops: number;
}

/**
 * TcpExt ListenOverflows and ListenDrops from /proc/net/netstat (host-wide counters), or undefined where they
 * cannot be read: an unread counter must not pass for a quiet accept queue.
 */
export function listenCounters(file = '/proc/net/netstat'): ListenCounters | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const get = (n: string) => (names.indexOf(n) > 0 ? Number(values[names.indexOf(n)]) : NaN);
  const counters = { overflows: get('ListenOverflows'), drops: get('ListenDrops') };
  return Number.isInteger(counters.overflows) && Number.isInteger(counters.drops) ? counters : undefined;
}

/** Growth of the counters between two looks, or {} (fields absent) when either look failed. */
export function listenGrowth(
  before: ListenCounters | undefined,
  after: ListenCounters | undefined,
): { listenOverflows?: number; listenDrops?: number } {
  return before && after ? { listenOverflows: after.overflows - before.overflows, listenDrops: after.drops - before.drops } : {};
}

/**
 * The accept queue of the listening socket(s) on `port`, as `ss -lnt` shows them: Recv-Q is the connections
 * waiting to be accepted, Send-Q the backlog in force. Undefined where ss is missing or nothing listens there.
 */
export function listenQueue(port: number): { queued: number; backlog: number } | undefined {
  try {
    const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8', timeout: 2000 });
    const rows = out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/).slice(1, 3).map(Number))
      .filter((q) => q.every(Number.isFinite));
    if (rows.length > 0) return { queued: Math.max(...rows.map((q) => q[0]!)), backlog: Math.max(...rows.map((q) => q[1]!)) };
  } catch {
    /* ss missing */
  }
  return undefined;
}

/** The listen backlog in force on `port` (ss's Send-Q); min(requested, somaxconn) where ss cannot say. */
export function backlogOnPort(port: number, requested: number): number {
  return listenQueue(port)?.backlog ?? cappedBacklog(requested);
}

/**
 * Samples the accept queue of the server's own port while it is measured: the kernel's ListenOverflows counter is
 * host-wide (any program's overflows count), this is the server's. A queue seen at its backlog was full: new SYNs
 * were being dropped.
 */
export class AcceptQueueSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;
  private backlog = 0;
  private samples = 0;
  private busy = false;

  constructor(private readonly port: number) {}

  start(intervalMs = 100): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      execFile('ss', ['-Hltn', `sport = :${this.port}`], { encoding: 'utf8', timeout: 2000 }, (err, out) => {
        this.busy = false;
        if (err) return;
        for (const line of out.split('\n').filter(Boolean)) {
          const [queued, backlog] = line.trim().split(/\s+/).slice(1, 3).map(Number);
          if (!Number.isFinite(queued) || !Number.isFinite(backlog)) continue;
          this.peak = Math.max(this.peak, queued!);
          this.backlog = Math.max(this.backlog, backlog!);
          this.samples++;
        }
      });
    }, intervalMs);
    this.timer.unref();
  }

  /** The largest queue seen, the backlog, and how many looks; undefined when ss never answered. */
  stop(): { peak: number; backlog: number; samples: number } | undefined {
    if (this.timer) clearInterval(this.timer);
    return this.samples > 0 ? { peak: this.peak, backlog: this.backlog, samples: this.samples } : undefined;
  }
}

/** Proportional set size of a process, bytes, from /proc/PID/smaps_rollup; undefined when it is gone or unreadable. */
export function pssBytes(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The server's own live processes: `excludePid` (a native or production server's node wrapper) and its guard shell left out. */
export function serverProcesses(pids: Iterable<number>, excludePid?: number): ProcStat[] {
  const counted: ProcStat[] = [];
  for (const pid of new Set(pids)) {
    const s = procStat(pid);
    if (!s || s.state === 'Z' || s.state === 'X') continue;
    if (pid === excludePid || (excludePid !== undefined && s.ppid === excludePid && isGuard(pid))) continue;
    counted.push(s);
  }
  return counted;
}

/** The memory of a server's processes: PSS summed when there are several (shared pages once), RSS of the one otherwise. */
export function treeMemory(pids: Iterable<number>, excludePid?: number): TreeMemory {
  const counted = serverProcesses(pids, excludePid);
  const threads = counted.reduce((a, s) => a + s.threads, 0);
  if (counted.length <= 1) {
    return { memoryBytes: (counted[0]?.rssPages ?? 0) * pageSizeBytes(), measure: 'rss', processes: counted.length, threads };
  }
  const bytes = counted.reduce((a, s) => a + (pssBytes(s.pid) ?? s.rssPages * pageSizeBytes()), 0);
  return { memoryBytes: bytes, measure: 'pss', processes: counted.length, threads };
}

/** Connections established to `port` on this host (ss), or undefined where ss cannot say. */
export function establishedTo(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-Htn', 'state', 'established', `sport = :${port}`], {
      encoding: 'utf8',
      timeout: 5000,
      maxBuffer: 64 * 2 ** 20,
    });
    return out.split('\n').filter(Boolean).length;
  } catch {
    return undefined;
  }
}
