// The memory experiment (`eventbench memory`, and the memory phase of `eventbench run`): what one more connection
// costs a server. The paper claims events need less memory per connection than threads; a closed loop cannot tell,
// since it holds few connections at once. Here each server is started fresh (unthrottled, unpinned: memory does not
// depend on the CPU share), then idle connections that each sent a partial request head are opened and held (the
// idle timeout raised so nobody closes them), level by level; once the server's memory settles its whole process
// tree is measured (PSS when it has several processes, so shared pages count once; RSS otherwise). Bytes per
// connection is the least-squares slope of memory on connections held, with r. The kernel's part, which neither PSS
// nor RSS holds (a thread's kernel stack, sockets, epoll items, page tables), is read beside it from a memory cgroup
// made for the server's processes (src/host/memory-cgroup.ts), or host-wide where there is none, and fitted the same
// way. It runs on the sweep engine
// (src/sweep/engine.ts): one sweep per server, its steps the connection levels; the results schema is in
// src/results/schema.ts, and memory.json is rewritten after every server.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fitLine } from '../core/fit.js';
import type { ConnectionKind, ServerModel } from '../servers/types.js';
import type { KernelCost, Plan, MemoryFit, MemoryLevel, MemoryRun, MemoryServer } from '../results/schema.js';
import type { Experiment, Sweep } from '../sweep/engine.js';
import type { KernelLook, ServerHost, TreeMemory } from '../host/hosts.js';
import { writeMemoryRun } from '../results/store.js';
import { serverSpec, trialServer, type Session, type TrialServer, type TrialSettings } from '../sweep/session.js';
import { DEFAULT_THROTTLE_PERIOD_MS } from '../host/throttle.js';
import type { ClockPriors } from '../sweep/clock.js';

export { MEMORY_FILE, MEMORY_SCHEMA, type MemoryFit, type MemoryLevel, type MemoryRun, type MemoryServer } from '../results/schema.js';

export const MEMORY_DEFAULTS = {
  /** Connections held at each level, ascending; each level adds to the connections of the one before. */
  levels: [0, 1000, 2000, 5000, 10000],
  /** The budget the largest number of connections is extrapolated to, bytes (1 GiB). */
  budgetBytes: 2 ** 30,
  /** The servers' idle timeout for this experiment, s: far longer than the experiment, so nothing is closed. */
  idleTimeoutS: 3600,
  /** How long a level may take to settle before it is measured anyway, ms. */
  settleMaxMs: 6000,
  /** Looks at a level's memory this far apart, ms, the first two of them after its last connection. */
  settleLookMs: 250,
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
export const PROBE = 50;
/** A connect not done within this long counts as refused (the accept queue was full and the SYN dropped), ms. */
const CONNECT_TIMEOUT_MS = 3000;
/** The host keeps at least this much available memory; a level stops opening connections below it, bytes. */
const HOST_RESERVE_BYTES = 2 * 2 ** 30;

/** The line of `bytes` on the connections the server accepted, and whether it is a figure. */
function fitBytes(levels: readonly MemoryLevel[], bytes: (l: MemoryLevel) => number): Pick<KernelCost, 'fit' | 'measurable' | 'why'> {
  const xs = levels.map((l) => l.acceptedConnections ?? l.connections);
  const line = fitLine(xs, levels.map(bytes));
  if (!line) return { measurable: false, why: 'fewer than two distinct connection counts were held' };
  const fit: MemoryFit = { bytesPerConnection: line.slope, interceptBytes: line.intercept, r: line.r, n: line.n };
  if (line.slope <= 0 || line.r === null) {
    return { fit, measurable: false, why: `memory did not grow with connections (slope ${Math.round(line.slope)} B)` };
  }
  if (line.r < MIN_MEMORY_R) return { fit, measurable: false, why: `r = ${line.r.toFixed(3)} is below ${MIN_MEMORY_R}` };
  return { fit, measurable: true };
}

/** The fit, whether it is a figure, and the connections the budget holds by it. */
export function judgeMemory(
  levels: readonly MemoryLevel[],
  budgetBytes: number,
): Pick<MemoryServer, 'fit' | 'measurable' | 'why' | 'connectionsInBudget'> {
  const judged = fitBytes(levels, (l) => l.memoryBytes);
  if (!judged.measurable) return judged;
  const { interceptBytes, bytesPerConnection } = judged.fit!;
  const connections = Math.max(0, Math.floor((budgetBytes - interceptBytes) / bytesPerConnection));
  return { ...judged, connectionsInBudget: { connections, extrapolated: true } };
}

/** The kernel's cost per connection from the levels that have a kernel figure, or undefined where none has. */
export function judgeKernel(levels: readonly MemoryLevel[], where: Pick<KernelLook, 'source' | 'reason'>): KernelCost | undefined {
  const read = levels.filter((l) => l.kernel !== undefined);
  if (read.length === 0) return undefined;
  const judged = fitBytes(read, (l) => l.kernel!.bytes);
  return { source: where.source, ...(where.source === 'host' ? { hostWide: where.reason ?? 'no memory cgroup' } : {}), ...judged };
}

/** Opens one idle connection that sends PARTIAL_HEAD; resolves to the socket or undefined when it could not connect. */
function openIdle(host: string, port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, CONNECT_TIMEOUT_MS);
    socket.on('error', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
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
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}
  get count(): number {
    return this.sockets.length - this.closedByServer;
  }
  /** Connections the server closed while they were held (an idle timeout that was not raised, a cap). */
  get closed(): number {
    return this.closedByServer;
  }
  /**
   * Opens connections up to `target`, a batch at a time; stops early when a batch has refused connects or
   * `check` says why not to go on. Resolves to why it stopped early, or undefined.
   */
  async growTo(target: number, check: () => Promise<string | undefined>): Promise<string | undefined> {
    while (this.sockets.length < target) {
      const batch = Math.min(CONNECT_BATCH, target - this.sockets.length);
      const opened = await Promise.all(Array.from({ length: batch }, () => openIdle(this.host, this.port)));
      let refused = 0;
      for (const s of opened) {
        if (!s) {
          refused++;
          continue;
        }
        s.on('close', () => {
          this.closedByServer++;
        });
        s.on('data', () => {}); // an early answer (a 408, a 400) is read and ignored; the close is what counts
        this.sockets.push(s);
      }
      if (refused > 0) {
        return (
          `${refused} of ${batch} connects were refused or timed out at ${this.sockets.length} connections ` +
          '(the server stopped accepting and its accept queue filled)'
        );
      }
      const why = await check();
      if (why) return why;
    }
    return undefined;
  }
  /** Closes every connection (resets them: no FIN handshake to wait for). */
  close(): void {
    for (const s of this.sockets) {
      s.removeAllListeners('close');
      s.resetAndDestroy?.() ?? s.destroy();
    }
    this.sockets.length = 0;
  }
}

type Look = TreeMemory & { kernel?: KernelLook };
type Settled = Look & Pick<MemoryLevel, 'settled'>;

/**
 * Waits until the tree's memory settles (two looks `lookMs` apart within 0.5%, the same processes) or maxMs passed;
 * the last look. The first look comes two intervals after the level's last connection.
 */
export async function settledMemory(look: () => Promise<Look>, maxMs: number, lookMs: number): Promise<Settled> {
  const start = Date.now();
  await sleep(2 * lookMs);
  let last = await look();
  while (Date.now() - start < maxMs) {
    await sleep(lookMs);
    const now = await look();
    const within = Math.abs(now.memoryBytes - last.memoryBytes) <= 0.005 * Math.max(last.memoryBytes, 1);
    const stable = within && now.processes === last.processes;
    last = now;
    if (stable) return { ...now, settled: true };
  }
  return { ...last, settled: false };
}

/** The levels of one server: a probe of PROBE connections comes before the first asked level above it. */
export function memorySteps(levels: readonly number[]): number[] {
  const steps = [...levels];
  const first = steps.find((l) => l > 0);
  if (first !== undefined && first > PROBE) steps.splice(steps.indexOf(first), 0, PROBE);
  return steps;
}

/** One sweep per server of `servers` that memory.json does not hold yet. */
export function memorySweepsLeft(run: MemoryRun, servers: readonly string[]): Sweep[] {
  const left = servers.filter((s) => !run.servers.some((r) => r.server === s));
  return left.map((server) => ({ round: 1, server, steps: memorySteps(run.levels) }));
}

/** What one step of a server did: a level measured, or why it went no further, or why it failed. */
export interface MemoryStep {
  level?: MemoryLevel;
  stop?: string;
  failed?: { reason: string; why: string };
}

/** One server being measured: the connections held, the levels so far, and where and why it stopped. */
class ServerMemory {
  readonly levels: MemoryLevel[] = [];
  stopped?: { connections: number; why: string };
  probed = false;
  failed?: { reason: string; why: string };
  /** Where its kernel figures come from (its memory cgroup, or the host), from its first look. */
  kernel?: Pick<KernelLook, 'source' | 'reason'>;
  constructor(
    readonly server: TrialServer,
    readonly held: IdleConnections | undefined,
  ) {}
}

export interface MemoryInput {
  dir: string;
  /** memory.json as it stands: servers measured are appended to it, and it is rewritten after each. */
  run: MemoryRun;
  /** The run's plan (backlog, page size); the memory phase itself runs unthrottled and unpinned. */
  plan: Plan;
  settleMaxMs: number;
  settleLookMs: number;
  /** Connections this process may hold (open files less its own). */
  maxConnections: number;
  models: readonly ServerModel[];
  trial?: TrialSettings;
}

/** The memory phase's prices before any server: a start, and a level's three looks and its connects. */
export const memoryPriors = (settleLookMs: number): ClockPriors => ({ sessionS: 1, pointS: (3 * settleLookMs) / 1000 + 0.2 });

export function memoryPhase(i: MemoryInput): Experiment<MemoryStep> {
  let current: ServerMemory | undefined;
  const maxLive = Math.max(1, Math.max(...i.run.levels) + 100);
  return {
    phase: 'memory',
    host: { cpuShare: 0, periodMs: DEFAULT_THROTTLE_PERIOD_MS },
    priors: memoryPriors(i.settleLookMs),
    server: (name) => trialServer(i.models.find((m) => m.name === name)!),
    // Per-connection models get a cap on live threads or processes above the largest level (the budget stops them first).
    serverSpec: (server) => serverSpec(server, i.plan, i.trial, ['--idle-timeout', String(i.run.idleTimeoutS), '--max-live', `${maxLive}`]),
    warmUp: () => undefined,
    async measure(c) {
      if (current?.server.name !== c.sweep.server) current = new ServerMemory(c.session.server, idleTo(c.session.started.url));
      try {
        return await measureLevel(i, c.session, current, c.step);
      } catch (err) {
        return { failed: { reason: (err as Error).message, why: 'the measurement failed' } };
      }
    },
    failedStart(server, _sweep, _step, reason) {
      current = new ServerMemory(server, undefined);
      return { failed: { reason, why: 'the server did not start' } };
    },
    isFailed: (s) => s.failed !== undefined,
    judge: (s, sweep, step) => judgeLevel(i, current!, s, step, sweep.steps[1] ?? step),
    keep: () => undefined,
    endSweep(sweep, aborted) {
      const m = current;
      current = undefined;
      m?.held?.close();
      if (aborted || !m || m.server.name !== sweep.server) return undefined;
      const result = serverResult(m, i.run.budgetBytes, i.models.find((x) => x.name === m.server.name)?.connection);
      i.run.servers.push(result);
      writeMemoryRun(i.dir, i.run);
      return { phase: 'memory', server: result };
    },
    stepCap: () => Infinity,
  };
}

function idleTo(url: string): IdleConnections {
  const { hostname, port } = new URL(url);
  return new IdleConnections(hostname.replace(/^\[|\]$/g, ''), Number(port));
}

/** The server's record once its sweep is over. */
function serverResult(m: ServerMemory, budgetBytes: number, connection: ConnectionKind | undefined): MemoryServer {
  const base = {
    server: m.server.name,
    family: m.server.family,
    ...(m.server.paperRow ? { paperRow: m.server.paperRow } : {}),
    ...(connection ? { connection } : {}),
  };
  if (m.failed) return { ...base, status: 'failed', reason: m.failed.reason, levels: [], measurable: false, why: m.failed.why };
  const kernel = m.kernel ? judgeKernel(m.levels, m.kernel) : undefined;
  return {
    ...base,
    status: 'ok',
    levels: m.levels,
    ...(m.stopped ? { stopped: m.stopped } : {}),
    ...judgeMemory(m.levels, budgetBytes),
    ...(kernel ? { kernel } : {}),
  };
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** Grows the connections held to `target` and measures the server once its memory settles. */
async function measureLevel(i: MemoryInput, s: Session, m: ServerMemory, target: number): Promise<MemoryStep> {
  const host: ServerHost = s.hosts.server;
  const id = s.started.id;
  const budget = i.run.budgetBytes;
  if (target > i.maxConnections) {
    return { stop: `${target} connections need more open files than this process may hold (${i.maxConnections}); raise it with ulimit -n` };
  }
  // The next level would cost the last slope times the new connections: stop before it passes the budget.
  const fit = m.levels.length >= 2 ? judgeMemory(m.levels, budget).fit : undefined;
  const last = m.levels.at(-1);
  if (fit && last && fit.bytesPerConnection > 0 && last.memoryBytes + fit.bytesPerConnection * (target - last.connections) > budget) {
    const cost = Math.round(fit.bytesPerConnection);
    return { stop: `${target} connections would pass the memory budget (${mib(budget)} MiB) at ${cost} B each` };
  }
  const held = m.held!;
  const why = await held.growTo(target, async () => {
    const now = await host.memory(id);
    if (now.memoryBytes > budget) return `the server passed the memory budget (${mib(budget)} MiB) at ${held.count} connections`;
    if (now.hostAvailableBytes < HOST_RESERVE_BYTES) {
      return `the host had less than ${HOST_RESERVE_BYTES / 2 ** 30} GiB available at ${held.count} connections`;
    }
    return host.exitReason(id, 'while connections were held');
  });
  const look = async () => {
    const { hostAvailableBytes: _, ...tree } = await host.memory(id);
    return tree;
  };
  const { kernel, ...memory } = await settledMemory(look, i.settleMaxMs, i.settleLookMs);
  if (kernel) m.kernel ??= { source: kernel.source, ...(kernel.reason ? { reason: kernel.reason } : {}) };
  const { established, queued } = await host.connections(id);
  const accepted = established !== undefined && queued !== undefined ? Math.max(0, Math.min(held.count, established - queued)) : undefined;
  const gone = await host.exitReason(id, 'while connections were held');
  if (gone) return { stop: gone };
  const level: MemoryLevel = {
    connections: held.count,
    ...(accepted !== undefined ? { acceptedConnections: accepted } : {}),
    ...memory,
    ...(kernel?.memory ? { kernel: kernel.memory } : {}),
  };
  if (why) return { level, stop: why };
  if (held.closed > 0) return { level, stop: `the server closed ${held.closed} of the idle connections` };
  if (accepted !== undefined && target > 0 && accepted < 0.9 * target) {
    return { level, stop: `the server accepted only ${accepted} of ${target} connections (its cap on connections, workers or threads)` };
  }
  return { level };
}

/**
 * Records the step on the server and decides what comes next. After the probe, when its cost says the largest level
 * would pass the budget, the levels left are rescaled to a quarter, a half and all of what fits in 80% of it, so that
 * an expensive model (a thread or process per connection) still gets three levels and a fit, not two points.
 */
function judgeLevel(i: MemoryInput, m: ServerMemory, s: MemoryStep, step: number, next: number): { stop?: string; next?: number[] } {
  if (s.failed) {
    m.failed = s.failed;
    return {};
  }
  if (s.level) m.levels.push(s.level);
  if (s.stop) {
    m.stopped = { connections: step, why: s.stop };
    return { stop: s.stop };
  }
  if (m.probed || m.levels.length < 2) return {};
  m.probed = true;
  const budget = i.run.budgetBytes;
  const est = judgeMemory(m.levels, budget).fit;
  const top = Math.max(...i.run.levels);
  if (!est || est.bytesPerConnection <= 0 || est.interceptBytes + est.bytesPerConnection * top <= 0.8 * budget) return {};
  const last = m.levels.at(-1)!;
  const fits = Math.floor((0.8 * budget - last.memoryBytes) / est.bytesPerConnection) + last.connections;
  const scaled = [...new Set([fits / 4, fits / 2, fits].map((x) => Math.round(x)))].filter((x) => x > last.connections);
  const cost = Math.round(est.bytesPerConnection);
  if (scaled.length === 0) {
    const why = `${PROBE} connections already cost ${cost} B each: no more fit in the memory budget (${mib(budget)} MiB)`;
    m.stopped = { connections: next, why };
    return { stop: m.stopped.why };
  }
  const why =
    `${top} connections would pass the memory budget (${mib(budget)} MiB) at about ${cost} B each: ` +
    `measured at ${scaled.join(', ')} instead`;
  m.stopped = { connections: top, why };
  return { next: scaled };
}
