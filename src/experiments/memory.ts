// The memory experiment (`eventbench memory`): what one more connection costs a server. The paper claims events
// need less memory per connection than threads; a closed loop cannot tell, since it holds few connections at once.
// Here each server is started fresh, then N idle connections that each sent a partial request head are opened
// and held (the idle timeout raised so nobody closes them), N = 0, 1000, 2000, 5000, 10000; once the server's
// memory settles its whole process tree is measured (PSS when it has several processes, so shared pages count
// once; RSS otherwise). Bytes per connection is the least-squares slope of memory on connections held, with r.
// The kernel's part, which neither PSS nor RSS holds (a thread's kernel stack, sockets, epoll items, page tables),
// is measured beside it from a memory cgroup made for the server's processes (src/host/memory-cgroup.ts), or
// host-wide where there is none, and fitted the same way.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Family } from '../servers/types.js';
import type { Environment } from '../core/environment.js';
import { fitLine } from '../core/fit.js';
import { procStat, pageSizeBytes, type ProcStat } from '../core/proc.js';
import { isGuard, listenQueue } from '../host/sampling.js';
import { createKernelMeter, type KernelMemory, type KernelMeter, type KernelSource } from '../host/memory-cgroup.js';

/** Version 2 added the kernel's memory (MemoryLevel.kernel, MemoryServer.kernel); version 1 files are still read. */
export const MEMORY_SCHEMA = 'eventbench.memory/2';
export const MEMORY_SCHEMAS_READ: readonly string[] = ['eventbench.memory/1', MEMORY_SCHEMA];
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

/** One level of one server (eventbench.memory/2). */
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
  /**
   * The kernel memory charged to the server's memory cgroup, or held by the whole host (MemoryServer.kernel.source
   * says which), read right after memoryBytes; bytes, with its named parts. Absent in eventbench.memory/1.
   */
  kernel?: KernelMemory;
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

/** The kernel's memory per connection, beside the user-space figure (eventbench.memory/2). */
export interface KernelCost {
  /** Where the levels' kernel figures come from: the server's own memory cgroup (v1, v2) or the whole host. */
  source: KernelSource;
  /**
   * Why host-wide, when source is 'host' (no memory cgroup could be made): the figure then also counts the client's
   * own sockets, about as many as the server's, and whatever else the host did meanwhile.
   */
  hostWide?: string;
  /** Slope of kernel bytes on connections, as MemoryServer.fit is of user-space bytes. */
  fit?: MemoryFit;
  /** Whether the fit is a figure (r ≥ MIN_MEMORY_R, slope above 0); else why not. */
  measurable: boolean;
  why?: string;
}

/** One server's memory measurement (eventbench.memory/2). */
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
  /** The kernel's memory per connection (absent in eventbench.memory/1). */
  kernel?: KernelCost;
}

/** memory.json: one memory experiment (schema eventbench.memory/2; /1 files lack the kernel fields). */
export interface MemoryRun {
  schema: typeof MEMORY_SCHEMA | 'eventbench.memory/1';
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

/** The server's own live processes: `excludePid` (a native or production server's node wrapper) and its guard shell left out. */
function serverProcesses(pids: Iterable<number>, excludePid?: number): ProcStat[] {
  const counted = [];
  for (const pid of new Set(pids)) {
    const s = procStat(pid);
    if (!s || s.state === 'Z' || s.state === 'X') continue;
    if (pid === excludePid || (excludePid !== undefined && s.ppid === excludePid && isGuard(pid))) continue;
    counted.push(s);
  }
  return counted;
}

/** The memory of a server's processes: PSS summed when there are several (shared pages once), RSS of the one otherwise. */
export function treeMemory(pids: Iterable<number>, excludePid?: number):
  Pick<MemoryLevel, 'memoryBytes' | 'measure' | 'processes' | 'threads'> {
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
    const out = execFileSync('ss', ['-Htn', 'state', 'established', `sport = :${port}`], { encoding: 'utf8', timeout: 5000, maxBuffer: 64 * 2 ** 20 });
    return out.split('\n').filter(Boolean).length;
  } catch {
    return undefined;
  }
}

/** The line of `bytes` on the connections the server accepted, and whether it is a figure. */
function fitBytes(levels: readonly MemoryLevel[], bytes: (l: MemoryLevel) => number): Pick<KernelCost, 'fit' | 'measurable' | 'why'> {
  const xs = levels.map((l) => l.acceptedConnections ?? l.connections);
  const line = fitLine(xs, levels.map(bytes));
  if (!line) return { measurable: false, why: 'fewer than two distinct connection counts were held' };
  const fit: MemoryFit = { bytesPerConnection: line.slope, interceptBytes: line.intercept, r: line.r, n: line.n };
  if (line.slope <= 0 || line.r === null) return { fit, measurable: false, why: `memory did not grow with connections (slope ${Math.round(line.slope)} B)` };
  if (line.r < MIN_MEMORY_R) return { fit, measurable: false, why: `r = ${line.r.toFixed(3)} is below ${MIN_MEMORY_R}` };
  return { fit, measurable: true };
}

/** The fit, whether it is a figure, and the connections the budget holds by it. */
export function judgeMemory(levels: readonly MemoryLevel[], budgetBytes: number):
  Pick<MemoryServer, 'fit' | 'measurable' | 'why' | 'connectionsInBudget'> {
  const judged = fitBytes(levels, (l) => l.memoryBytes);
  if (!judged.measurable) return judged;
  const { interceptBytes, bytesPerConnection } = judged.fit!;
  const connections = Math.max(0, Math.floor((budgetBytes - interceptBytes) / bytesPerConnection));
  return { ...judged, connectionsInBudget: { connections, extrapolated: true } };
}

/** The kernel's cost per connection from the levels that have a kernel figure, or undefined where none has. */
export function judgeKernel(levels: readonly MemoryLevel[], meter: Pick<KernelMeter, 'source' | 'reason'>): KernelCost | undefined {
  const read = levels.filter((l) => l.kernel !== undefined);
  if (read.length === 0) return undefined;
  const judged = fitBytes(read, (l) => l.kernel!.bytes);
  return { source: meter.source, ...(meter.source === 'host' ? { hostWide: meter.reason ?? 'no memory cgroup' } : {}), ...judged };
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
  /** Where the server's kernel memory is read; by default a memory cgroup made (and removed) for this measurement. */
  kernel?: KernelMeter;
}

type Stop = NonNullable<MemoryServer['stopped']>;

const budgetText = (o: MeasureMemoryOptions) => `the memory budget (${Math.round(o.budgetBytes / 2 ** 20)} MiB)`;

/**
 * After the probe: when the largest level asked would pass 80% of the budget at the probe's cost, the levels to
 * measure instead (a quarter, a half and all of what fits) and why; undefined to go on as asked.
 */
function rescaled(levels: readonly MemoryLevel[], target: number, o: MeasureMemoryOptions): { queue: number[]; stopped: Stop } | undefined {
  const est = judgeMemory(levels, o.budgetBytes).fit;
  const top = Math.max(...o.levels);
  if (!est || est.bytesPerConnection <= 0 || est.interceptBytes + est.bytesPerConnection * top <= 0.8 * o.budgetBytes) return undefined;
  const last = levels.at(-1)!;
  const fits = Math.floor((0.8 * o.budgetBytes - last.memoryBytes) / est.bytesPerConnection) + last.connections;
  const queue = [...new Set([fits / 4, fits / 2, fits].map((x) => Math.round(x)))].filter((x) => x > last.connections);
  const each = Math.round(est.bytesPerConnection);
  if (queue.length === 0) {
    const why = `${PROBE} connections already cost ${each} B each: no more fit in ${budgetText(o)}`;
    return { queue, stopped: { connections: target, why } };
  }
  const why = `${top} connections would pass ${budgetText(o)} at about ${each} B each: measured at ${queue.join(', ')} instead`;
  return { queue, stopped: { connections: top, why } };
}

/** Why `target` connections cannot be opened (open files; the last slope says the budget would pass), or undefined. */
function cannotGrowTo(levels: readonly MemoryLevel[], target: number, o: MeasureMemoryOptions): Stop | undefined {
  if (target > o.maxConnections) {
    const why = `${target} connections need more open files than this process may hold (${o.maxConnections}); raise it with ulimit -n`;
    return { connections: target, why };
  }
  const fit = levels.length >= 2 ? judgeMemory(levels, o.budgetBytes).fit : undefined;
  const last = levels.at(-1);
  const each = fit?.bytesPerConnection ?? 0;
  if (last && each > 0 && last.memoryBytes + each * (target - last.connections) > o.budgetBytes) {
    return { connections: target, why: `${target} connections would pass ${budgetText(o)} at ${Math.round(each)} B each` };
  }
  return undefined;
}

/** Checked after every batch of connections: why to stop opening more, or undefined. */
function stopGrowing(held: IdleConnections, o: MeasureMemoryOptions): string | undefined {
  const at = `at ${held.count} connections`;
  if (treeMemory(o.members(), o.excludePid).memoryBytes > o.budgetBytes) return `the server passed ${budgetText(o)} ${at}`;
  if (availableHostBytes() < HOST_RESERVE_BYTES) return `the host had less than ${HOST_RESERVE_BYTES / 2 ** 30} GiB available ${at}`;
  return o.exitReason?.();
}

/** A level once the server's memory settled: user space, the kernel's part, and the connections it accepted. */
async function lookAtLevel(held: IdleConnections, port: number, o: MeasureMemoryOptions, inside: () => void, kernel: KernelMeter):
  Promise<MemoryLevel> {
  const memory = await settledMemory(o.members, o.excludePid, o.settleMaxMs);
  inside();
  const kernelNow = kernel.read();
  const established = establishedTo(port);
  const queued = listenQueue(port)?.queued;
  const accepted = established !== undefined && queued !== undefined ? Math.max(0, Math.min(held.count, established - queued)) : undefined;
  return {
    connections: held.count, ...(accepted !== undefined ? { acceptedConnections: accepted } : {}),
    ...memory, ...(kernelNow ? { kernel: kernelNow } : {}),
  };
}

/** Measures one started server level by level; its identity and status are the caller's. */
export async function measureMemory(o: MeasureMemoryOptions):
  Promise<Pick<MemoryServer, 'levels' | 'stopped' | 'fit' | 'measurable' | 'why' | 'connectionsInBudget' | 'kernel'>> {
  const { hostname, port } = new URL(o.url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const held = new IdleConnections(host, Number(port));
  const kernel = o.kernel ?? createKernelMeter();
  // The server's processes are charged from now on; what they allocated before stays with their old group and
  // only moves the intercept. Processes they start later (a fork per connection) are born inside.
  const inside = () => kernel.add(serverProcesses(o.members(), o.excludePid).map((p) => p.pid));
  inside();
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
        const instead = rescaled(levels, target, o);
        if (instead) {
          queue.splice(0, queue.length, ...instead.queue);
          stopped = instead.stopped;
          if (instead.queue.length === 0) break;
          continue;
        }
      }
      const cannot = cannotGrowTo(levels, target, o);
      if (cannot) { stopped = cannot; break; }
      const why = await held.growTo(target, () => stopGrowing(held, o));
      const level = await lookAtLevel(held, Number(port), o, inside, kernel);
      const gone = o.exitReason?.();
      if (gone) { stopped = { connections: target, why: gone }; break; }
      levels.push(level);
      const accepted = level.acceptedConnections;
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
    if (!o.kernel) kernel.remove();
  }
  const kernelCost = judgeKernel(levels, kernel);
  return { levels, ...(stopped ? { stopped } : {}), ...judgeMemory(levels, o.budgetBytes), ...(kernelCost ? { kernel: kernelCost } : {}) };
}
