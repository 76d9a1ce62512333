// The memory experiment (`eventbench memory`): what one more connection costs a server. The paper claims events
// need less memory per connection than threads; a closed loop cannot tell, since it holds few connections at once.
// Here each server is started fresh, then N idle connections that each sent a partial request head are opened
// and held (the idle timeout raised so nobody closes them), N = 0, 1000, 2000, 5000, 10000; once the server's
// memory settles its whole process tree is measured (PSS when it has several processes, so shared pages count
// once; RSS otherwise). Bytes per connection is the least-squares slope of memory on connections held, with r.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Family } from '../servers/types.js';
import type { Environment } from '../core/environment.js';
import { fitLine } from '../core/fit.js';
import { procStat, pageSizeBytes } from '../core/proc.js';
import { isGuard, listenQueue } from '../host/sampling.js';

export const MEMORY_SCHEMA = 'eventbench.memory/1';
export const MEMORY_FILE = 'memory.json';

export const MEMORY_DEFAULTS = {
  /** Connections held at each level, ascending; each level adds to the connections of the one before. */
  levels: [0, 1000, 2000, 5000, 10000],
  /** The budget the largest number of connections is extrapolated to, bytes (1 GiB). */
  budgetBytes: 2 ** 30,
  /** The servers' idle timeout for this experiment, s: far longer than the experiment, so nothing is closed. */
  idleTimeoutS: 3600,
  /** How long a level may take to settle before it is measured anyway, ms. */
  settleMaxMs: 6000,
} as const;

/** `--quick`: four small levels (every model, the production servers' 1024-connection cap included, fits). */
export const MEMORY_QUICK = { levels: [0, 250, 500, 1000], settleMaxMs: 2500 } as const;

/** A fit below this r, or with a slope not above 0, is "not measurable here", never a figure. */
export const MIN_MEMORY_R = 0.9;

/** The request head each idle connection sends: the request line and no blank line, so the server waits for more. */
export const PARTIAL_HEAD = 'GET / HTTP/1.0\r\nHost: eventbench\r\n';

/** Connections opened at once while a level is built. */
const CONNECT_BATCH = 250;
/** Connections of the probe level, measured before the first asked level to price a connection. */
const PROBE = 50;
/** A connect not done within this long counts as refused (the accept queue was full and the SYN dropped), ms. */
const CONNECT_TIMEOUT_MS = 3000;
/** The host keeps at least this much available memory; a level stops opening connections below it, bytes. */
const HOST_RESERVE_BYTES = 2 * 2 ** 30;

/** One level of one server (eventbench.memory/1). */
export interface MemoryLevel {
  /** Connections this client held open, each having sent PARTIAL_HEAD. */
  connections: number;
  /**
   * Of those, the ones the server had accepted: established on its port less its listen queue (ss), or undefined
   * where ss could not tell. The fit's x when known, since a connection still in the kernel's queue costs the
   * server nothing.
   */
  acceptedConnections?: number;
  /** The server's process tree's memory once settled, bytes: summed PSS or RSS, as `measure` says. */
  memoryBytes: number;
  /** 'pss': proportional set size from /proc/PID/smaps_rollup (several processes); 'rss': resident set (one process). */
  measure: 'pss' | 'rss';
  /** Processes and threads of the server measured (a native or production server's node wrapper left out). */
  processes: number;
  threads: number;
  /** Whether its memory settled (two looks 250 ms apart within 0.5%) before it was measured. */
  settled: boolean;
}

export interface MemoryFit {
  /** Slope of memoryBytes on connections held, bytes per connection. */
  bytesPerConnection: number;
  /** Memory at no connection, bytes. */
  interceptBytes: number;
  /** Pearson's r, or null when memory did not vary. */
  r: number | null;
  /** Levels fitted. */
  n: number;
}

/** One server's memory measurement (eventbench.memory/1). */
export interface MemoryServer {
  server: string;
  family: Family;
  paperRow?: string;
  status: 'ok' | 'failed';
  /** Why it failed (status 'failed'). */
  reason?: string;
  levels: MemoryLevel[];
  /** Where it stopped below the largest level asked, and why (connects refused, its cap, the budget, open files). */
  stopped?: { connections: number; why: string };
  /** The line through the levels, when at least two distinct connection counts were measured. */
  fit?: MemoryFit;
  /** Whether the fit is a figure: r ≥ MIN_MEMORY_R and a positive slope; else why not ("not measurable here"). */
  measurable: boolean;
  why?: string;
  /** Connections it would hold within the budget: (budget − intercept) / slope, extrapolated, never measured. */
  connectionsInBudget?: { connections: number; extrapolated: true };
}

/** memory.json: one memory experiment (schema eventbench.memory/1). */
export interface MemoryRun {
  schema: typeof MEMORY_SCHEMA;
  startedAt: string;
  finishedAt?: string;
  environment: Environment;
  /** Levels asked, connections. */
  levels: number[];
  /** The budget of connectionsInBudget, bytes. */
  budgetBytes: number;
  /** The idle timeout the servers were started with, s. */
  idleTimeoutS: number;
  /** The soft open-files limit of the client (it holds every connection), and net.core.somaxconn. */
  openFilesLimit?: number;
  somaxconn?: number;
  quick: boolean;
  servers: MemoryServer[];
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

/**
 * The memory of a server's processes: PSS summed when there are several (shared pages once), RSS of the one
 * otherwise. `excludePid` (a native or production server's node wrapper) and the guard shell under it are left out.
 */
export function treeMemory(pids: Iterable<number>, excludePid?: number): Pick<MemoryLevel, 'memoryBytes' | 'measure' | 'processes' | 'threads'> {
  const counted = [];
  for (const pid of new Set(pids)) {
    const s = procStat(pid);
    if (!s || s.state === 'Z' || s.state === 'X') continue;
    if (pid === excludePid || (excludePid !== undefined && s.ppid === excludePid && isGuard(pid))) continue;
    counted.push(s);
  }
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
    const out = execFileSync('ss', ['-Htn', 'state', 'established', `sport = :${port}`], { encoding: 'utf8', timeout: 5000, maxBuffer: 64 * 2 ** 20 });
    return out.split('\n').filter(Boolean).length;
  } catch {
    return undefined;
  }
}

/** The fit, whether it is a figure, and the connections the budget holds by it. */
export function judgeMemory(levels: readonly MemoryLevel[], budgetBytes: number): Pick<MemoryServer, 'fit' | 'measurable' | 'why' | 'connectionsInBudget'> {
  const xs = levels.map((l) => l.acceptedConnections ?? l.connections);
  const line = fitLine(xs, levels.map((l) => l.memoryBytes));
  if (!line) return { measurable: false, why: 'fewer than two distinct connection counts were held' };
  const fit: MemoryFit = { bytesPerConnection: line.slope, interceptBytes: line.intercept, r: line.r, n: line.n };
  if (line.slope <= 0 || line.r === null) return { fit, measurable: false, why: `memory did not grow with connections (slope ${Math.round(line.slope)} B)` };
  if (line.r < MIN_MEMORY_R) return { fit, measurable: false, why: `r = ${line.r.toFixed(3)} is below ${MIN_MEMORY_R}` };
  const connections = Math.max(0, Math.floor((budgetBytes - line.intercept) / line.slope));
  return { fit, measurable: true, connectionsInBudget: { connections, extrapolated: true } };
}

function availableHostBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'latin1'));
    return m ? Number(m[1]) * 1024 : Infinity;
  } catch {
    return Infinity;
  }
}

/** Opens one idle connection that sends PARTIAL_HEAD; resolves to the socket or undefined when it could not connect. */
function openIdle(host: string, port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); resolve(undefined); }, CONNECT_TIMEOUT_MS);
    socket.on('error', () => { clearTimeout(timer); socket.destroy(); resolve(undefined); });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      socket.write(PARTIAL_HEAD);
      resolve(socket);
    });
  });
}

/** Idle connections held against one server; grown level by level, all closed at the end. */
export class IdleConnections {
  private readonly sockets: net.Socket[] = [];
  private closedByServer = 0;
  constructor(private readonly host: string, private readonly port: number) {}
  get count(): number { return this.sockets.length - this.closedByServer; }
  /** Connections the server closed while they were held (an idle timeout that was not raised, a cap). */
  get closed(): number { return this.closedByServer; }
  /**
   * Opens connections up to `target`, a batch at a time; stops early when a batch has refused connects or
   * `check` says why not to go on. Resolves to why it stopped early, or undefined.
   */
  async growTo(target: number, check: () => string | undefined): Promise<string | undefined> {
    while (this.sockets.length < target) {
      const batch = Math.min(CONNECT_BATCH, target - this.sockets.length);
      const opened = await Promise.all(Array.from({ length: batch }, () => openIdle(this.host, this.port)));
      let refused = 0;
      for (const s of opened) {
        if (!s) { refused++; continue; }
        s.on('close', () => { this.closedByServer++; });
        s.on('data', () => {}); // an early answer (a 408, a 400) is read and ignored; the close is what counts
        this.sockets.push(s);
      }
      if (refused > 0) return `${refused} of ${batch} connects were refused or timed out at ${this.sockets.length} connections (the server stopped accepting and its accept queue filled)`;
      const why = check();
      if (why) return why;
    }
    return undefined;
  }
  /** Closes every connection (resets them: no FIN handshake to wait for). */
  close(): void {
    for (const s of this.sockets) { s.removeAllListeners('close'); s.resetAndDestroy?.() ?? s.destroy(); }
    this.sockets.length = 0;
  }
}

/** Waits until the tree's memory settles (two looks 250 ms apart within 0.5%) or maxMs passed; returns the last look. */
export async function settledMemory(members: () => number[], excludePid: number | undefined, maxMs: number): Promise<Pick<MemoryLevel, 'memoryBytes' | 'measure' | 'processes' | 'threads' | 'settled'>> {
  const start = Date.now();
  await sleep(500);
  let last = treeMemory(members(), excludePid);
  while (Date.now() - start < maxMs) {
    await sleep(250);
    const now = treeMemory(members(), excludePid);
    const stable = Math.abs(now.memoryBytes - last.memoryBytes) <= 0.005 * Math.max(last.memoryBytes, 1) && now.processes === last.processes;
    last = now;
    if (stable) return { ...now, settled: true };
  }
  return { ...last, settled: false };
}

export interface MeasureMemoryOptions {
  /** The server's URL and how to see its processes. */
  url: string;
  members: () => number[];
  /** The node wrapper of a native or production server, left out of its memory. */
  excludePid?: number;
  levels: readonly number[];
  budgetBytes: number;
  settleMaxMs: number;
  /** Connections this process may hold (open files less its own). */
  maxConnections: number;
  /** Why the server stopped, if it did (checked after every level). */
  exitReason?: () => string | undefined;
}

/** Measures one started server level by level; its identity and status are the caller's. */
export async function measureMemory(o: MeasureMemoryOptions): Promise<Pick<MemoryServer, 'levels' | 'stopped' | 'fit' | 'measurable' | 'why' | 'connectionsInBudget'>> {
  const { hostname, port } = new URL(o.url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const held = new IdleConnections(host, Number(port));
  const levels: MemoryLevel[] = [];
  let stopped: MemoryServer['stopped'];
  // Levels still to measure. A probe of PROBE connections comes first; when its cost says the largest level
  // would pass the budget, the rest are rescaled to a quarter, a half and all of what fits in 80% of it, so that
  // an expensive model (a thread or process per connection) still gets three levels and a fit, not two points.
  const queue = [...o.levels];
  const first = queue.find((l) => l > 0);
  if (first !== undefined && first > PROBE) queue.splice(queue.indexOf(first), 0, PROBE);
  let probed = false;
  try {
    while (queue.length > 0) {
      const target = queue.shift()!;
      if (!probed && levels.length >= 2) {
        probed = true;
        const est = judgeMemory(levels, o.budgetBytes).fit;
        const top = Math.max(...o.levels);
        if (est && est.bytesPerConnection > 0 && est.interceptBytes + est.bytesPerConnection * top > 0.8 * o.budgetBytes) {
          const fits = Math.floor((0.8 * o.budgetBytes - levels.at(-1)!.memoryBytes) / est.bytesPerConnection) + levels.at(-1)!.connections;
          const scaled = [...new Set([fits / 4, fits / 2, fits].map((x) => Math.round(x)))].filter((x) => x > levels.at(-1)!.connections);
          queue.splice(0, queue.length, ...scaled);
          if (scaled.length === 0) { stopped = { connections: target, why: `${PROBE} connections already cost ${Math.round(est.bytesPerConnection)} B each: no more fit in the memory budget (${Math.round(o.budgetBytes / 2 ** 20)} MiB)` }; break; }
          stopped = { connections: top, why: `${top} connections would pass the memory budget (${Math.round(o.budgetBytes / 2 ** 20)} MiB) at about ${Math.round(est.bytesPerConnection)} B each: measured at ${scaled.join(', ')} instead` };
          continue;
        }
      }
      if (target > o.maxConnections) {
        stopped = { connections: target, why: `${target} connections need more open files than this process may hold (${o.maxConnections}); raise it with ulimit -n` };
        break;
      }
      // The next level would cost the last slope times the new connections: stop before it passes the budget.
      const fit = levels.length >= 2 ? judgeMemory(levels, o.budgetBytes).fit : undefined;
      const lastLevel = levels.at(-1);
      if (fit && lastLevel && fit.bytesPerConnection > 0 && lastLevel.memoryBytes + fit.bytesPerConnection * (target - lastLevel.connections) > o.budgetBytes) {
        stopped = { connections: target, why: `${target} connections would pass the memory budget (${Math.round(o.budgetBytes / 2 ** 20)} MiB) at ${Math.round(fit.bytesPerConnection)} B each` };
        break;
      }
      const why = await held.growTo(target, () => {
        const now = treeMemory(o.members(), o.excludePid).memoryBytes;
        if (now > o.budgetBytes) return `the server passed the memory budget (${Math.round(o.budgetBytes / 2 ** 20)} MiB) at ${held.count} connections`;
        if (availableHostBytes() < HOST_RESERVE_BYTES) return `the host had less than ${HOST_RESERVE_BYTES / 2 ** 30} GiB available at ${held.count} connections`;
        return o.exitReason?.();
      });
      const memory = await settledMemory(o.members, o.excludePid, o.settleMaxMs);
      const established = establishedTo(Number(port));
      const queued = listenQueue(Number(port))?.queued;
      const accepted = established !== undefined && queued !== undefined ? Math.max(0, Math.min(held.count, established - queued)) : undefined;
      const gone = o.exitReason?.();
      if (gone) { stopped = { connections: target, why: gone }; break; }
      levels.push({ connections: held.count, ...(accepted !== undefined ? { acceptedConnections: accepted } : {}), ...memory });
      if (why) { stopped = { connections: target, why }; break; }
      if (stopped && queue.length === 0) break;
      if (held.closed > 0) { stopped = { connections: target, why: `the server closed ${held.closed} of the idle connections` }; break; }
      if (accepted !== undefined && target > 0 && accepted < 0.9 * target) {
        stopped = { connections: target, why: `the server accepted only ${accepted} of ${target} connections (its cap on connections, workers or live threads)` };
        break;
      }
    }
  } finally {
    held.close();
  }
  return { levels, ...(stopped ? { stopped } : {}), ...judgeMemory(levels, o.budgetBytes) };
}
