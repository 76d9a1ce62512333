// What the runner watches of a server while it is measured, read from /proc: the whole process tree's CPU time,
// summed resident memory, process and thread counts; the kernel's accept-queue counters; the backlog in force.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { sysctl } from '../core/environment.js';
import type { ServerMetrics } from './schema.js';

function getconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}
let clockTicks: number | undefined;
let pageBytes: number | undefined;

interface ProcStat { ppid: number; cpuTicks: number; threads: number; rssBytes: number }

/** One process's line of /proc/PID/stat; comm may hold spaces and parentheses, so split after the last ')'. */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  if (f[0] === 'Z' || f[0] === 'X') return undefined;
  pageBytes ??= getconf('PAGESIZE', 4096);
  return {
    ppid: Number(f[1]),
    // utime + stime + cutime + cstime: reaped children's time lands in the parent, so fork-per-connection counts.
    cpuTicks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
    threads: Number(f[17]),
    rssBytes: Number(f[21]) * pageBytes,
  };
}

/** Every live descendant of `root`, root included, via /proc/PID/task/TID/children (or a full /proc scan). */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const queue = [root];
  let scanned: Map<number, number[]> | undefined;
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (!procStat(pid)) continue;
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
    const s = procStat(Number(name));
    if (!s) continue;
    const list = map.get(s.ppid) ?? [];
    list.push(Number(name));
    map.set(s.ppid, list);
  }
  return map;
}

export interface TreeSample {
  pids: number[];
  cpuS: number;
  rssBytes: number;
  processes: number;
  threads: number;
}

/**
 * One look at a server's processes. `excludePid` is left out of memory and counts (not of CPU, which it spends
 * from the server's quota): the node wrapper of a native or production server, which is not the server measured.
 */
export function sampleProcesses(pids: Iterable<number>, excludePid?: number): TreeSample {
  clockTicks ??= getconf('CLK_TCK', 100);
  const seen: number[] = [];
  let ticks = 0, rss = 0, processes = 0, threads = 0;
  for (const pid of new Set(pids)) {
    const s = procStat(pid);
    if (!s) continue;
    seen.push(pid);
    ticks += s.cpuTicks;
    if (pid === excludePid) continue;
    rss += s.rssBytes;
    processes += 1;
    threads += s.threads;
  }
  return { pids: seen, cpuS: ticks / clockTicks, rssBytes: rss, processes, threads };
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

  /** `pids` lists the server's processes now (its tree, and its cgroup members when it has one). */
  constructor(private readonly pids: () => Iterable<number>, private readonly excludePid?: number) {
    this.first = this.last = this.take();
  }

  private take(): TreeSample {
    const s = sampleProcesses(this.pids(), this.excludePid);
    if (s.pids.length > 0) {
      this.peakRss = Math.max(this.peakRss, s.rssBytes);
      this.peakProcesses = Math.max(this.peakProcesses, s.processes);
      this.peakThreads = Math.max(this.peakThreads, s.threads);
      this.last = s;
      this.cpuSeries.push({ atMs: Date.now(), cpuS: s.cpuS });
    }
    return s;
  }

  start(intervalMs = 50): void {
    this.first = this.take();
    this.startedAtMs = performance.now();
    this.timer = setInterval(() => this.take(), intervalMs);
    this.timer.unref();
  }

  stop(): { cpuS: number; cpuShare: number; peakRssBytes: number; peakProcesses: number; peakThreads: number } {
    if (this.timer) clearInterval(this.timer);
    this.take();
    const wallS = (performance.now() - this.startedAtMs) / 1000;
    const cpuS = Math.max(0, this.last.cpuS - this.first.cpuS);
    return { cpuS, cpuShare: wallS > 0 ? cpuS / wallS : 0, peakRssBytes: this.peakRss, peakProcesses: this.peakProcesses, peakThreads: this.peakThreads };
  }

  /**
   * The tree's CPU share (1 = a core) between two wall-clock times (Date.now() ms), read off the samples by
   * linear interpolation: the share while the client was really loading it, without the client's own start and exit.
   */
  cpuShareBetween(fromMs: number, toMs: number): number | undefined {
    const at = (t: number): number | undefined => {
      const xs = this.cpuSeries;
      if (xs.length < 2 || t < xs[0]!.atMs || t > xs[xs.length - 1]!.atMs) return undefined;
      let i = 1;
      while (xs[i]!.atMs < t) i++;
      const a = xs[i - 1]!, b = xs[i]!;
      return b.atMs === a.atMs ? b.cpuS : a.cpuS + ((b.cpuS - a.cpuS) * (t - a.atMs)) / (b.atMs - a.atMs);
    };
    const a = at(fromMs), b = at(toMs);
    return a === undefined || b === undefined || toMs <= fromMs ? undefined : ((b - a) * 1000) / (toMs - fromMs);
  }

  /** Resident memory at the first look (the idle server), bytes. */
  get idleRssBytes(): number {
    return this.first.rssBytes;
  }
}

/** TcpExt ListenOverflows and ListenDrops from /proc/net/netstat (host-wide counters), or zeros where unreadable. */
export function listenCounters(): { overflows: number; drops: number } {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const get = (n: string) => Number(values[names.indexOf(n)] ?? 0) || 0;
    return { overflows: get('ListenOverflows'), drops: get('ListenDrops') };
  } catch {
    return { overflows: 0, drops: 0 };
  }
}

/**
 * The listen backlog in force on `port`: the Send-Q that `ss -lnt` shows for a listening socket is exactly that.
 * Falls back to min(requested, somaxconn) where ss is missing.
 */
export function effectiveBacklog(port: number, requested: number): number {
  try {
    const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8', timeout: 2000 });
    const sendQ = out.split('\n').filter(Boolean).map((l) => Number(l.trim().split(/\s+/)[2])).filter(Number.isFinite);
    if (sendQ.length > 0) return Math.max(...sendQ);
  } catch { /* ss missing: estimate */ }
  const somaxconn = Number(sysctl('net.core.somaxconn'));
  return Number.isFinite(somaxconn) ? Math.min(requested, somaxconn) : requested;
}

export type { ServerMetrics };
