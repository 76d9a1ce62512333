// The results files of `eventbench run`, documented once. A run folder holds:
//   run.json        RunInfo: the plan of every phase, the host set-up and the environment (rewritten as it goes on)
//   points.jsonl    the closed loop: one Point per line, appended the moment it is measured
//   open-loop.jsonl the open loop (run --open-loop): one OpenPoint per line, appended likewise
//   memory.json     the memory phase (and `eventbench memory`): one MemoryRun, rewritten after every server
//   visits.jsonl    the closed loop's sweeps as they ran (run/4): one VisitRecord per line, with every live server's
//                   CPU time at the sweep's start and end, appended as each ends
// Change a field: bump the version in its schema; the readers (src/results/store.ts) read the versions before it
// (run/1 and point/1 named the round `repeat`) and refuse any other with a clear error.
import type { ConnectionKind, Family } from '../servers/types.js';
import type { RecordedUserServer } from '../servers/user/index.js';
import type { Environment } from '../core/environment.js';
import type { Engine, LoadResult } from '../load/types.js';
import type { TransportChoice } from '../load/transport.js';
import type { PointFlag } from './verdict.js';
import type { Warmup, WarmupPolicy } from '../load/warmup.js';
import type { KernelMemory, KernelSource } from '../host/memory-cgroup.js';
import type { HostSetup, ServerMetrics } from '../host/hosts.js';

import type { HostRecord, RunHosts } from '../host/run-hosts.js';
import type { Calibration } from '../host/capacity.js';

export type { Calibration, HostRecord, HostSetup, RunHosts, ServerMetrics };

/**
 * Version 4 added the paired design (Plan.cycles, Plan.referenceEvery, RunInfo.calibration, RunInfo.addedCycles; points
 * with `cycle` and `visit`; visits.jsonl); version 3 added `hosts` (the server's host, the client hosts, the path
 * between them). Versions 1 to 3 are still read.
 */
export const RUN_SCHEMA = 'eventbench.run/4';
export const POINT_SCHEMA = 'eventbench.point/2';
export const OPEN_POINT_SCHEMA = 'eventbench.open-point/2';
/** Version 2 added the kernel's memory (MemoryLevel.kernel, MemoryServer.kernel); version 1 files are still read. */
export const MEMORY_SCHEMA = 'eventbench.memory/2';
/** One line of visits.jsonl. */
export const VISIT_SCHEMA = 'eventbench.visit/1';
/**
 * The versions before these, still read: the same fields, with `repeat` where these say `rounds` and `round` (the /1
 * files), and without `hosts` (run/2: server and client on this one machine, over loopback).
 */
export const OLD_SCHEMAS = {
  run: 'eventbench.run/1',
  run2: 'eventbench.run/2',
  run3: 'eventbench.run/3',
  point: 'eventbench.point/1',
  openPoint: 'eventbench.open-point/1',
  memory: 'eventbench.memory/1',
} as const;
export const RUN_FILE = 'run.json';
export const POINTS_FILE = 'points.jsonl';
export const OPEN_POINTS_FILE = 'open-loop.jsonl';
export const MEMORY_FILE = 'memory.json';
export const VISITS_FILE = 'visits.jsonl';

export type { Family };

export interface Plan {
  /** Server model names, in the order they are run. */
  servers: string[];
  /** Offered loads (the paper's l), ascending. */
  loads: number[];
  /**
   * Rounds planned: each starts every server afresh (a process of its own), and a point's `round` says which (run/1:
   * `repeat`). Without `cycles` (runs before run/4) a round measures every server at every load once, and rounds
   * added after them (RunInfo.addedRounds) measure a few servers and the reference, numbered on from here. With
   * `cycles` (the paired design), the servers of a round live together, each warmed once, and are measured in cycles.
   */
  rounds: number;
  /**
   * The paired design (run/4): cycles planned per round, each a sweep of every server at every load, the reference
   * swept again after every `referenceEvery` others, so that each server's ratio pairs with reference sweeps
   * seconds away (src/analysis/paired.ts). Cycles added after them (RunInfo.addedCycles) sweep the servers whose
   * intervals are widest. Absent: the unpaired design of earlier runs.
   */
  cycles?: number;
  /** The reference is swept after every this many other servers of a cycle (the paired design). */
  referenceEvery?: number;
  /** Seed of the per-round shuffle of the server order (src/sweep/plan.ts roundOrder); absent in runs before rounds. */
  seed?: number;
  /** Requests per point, or undefined when the point is time-bound. */
  requests?: number;
  /**
   * Seconds per point, or undefined when the point is count-bound. A point at a high load may run up to
   * maxPointS so that WAVES_PER_POINT (8) waves of `load` requests fit (src/sweep/plan.ts pointDurationS); its
   * result records what it ran.
   */
  durationS?: number;
  /** The longest a time-bound point may be lengthened to, s; absent in older runs, which used MAX_STRETCH (5) × durationS. */
  maxPointS?: number;
  /** Requests dropped at each end of a point: the smaller of this and the point's load (its closed-loop ramp). */
  trim: number;
  pageBytes: number;
  /** Listen backlog asked of every server. */
  backlog: number;
  engine: Engine;
  /**
   * The eventbench engine's transport asked of every point's client (`--transport`: epoll, tcp_wrap, net or auto;
   * src/load/transport.ts); each point's result says which ran. Absent with --engine ab, and in runs before it
   * (which used tcp_wrap where Node offered it).
   */
  transport?: TransportChoice;
  /** CPU lists, as taskset takes them ("0", "1-3"). */
  serverCpus: string;
  clientCpus: string;
  /** CPU quota of the server's cgroup, in cores (0.25 = a quarter of one core); 0 = unthrottled. */
  serverCpuShare: number;
  /** Period of that quota, ms (the quota is share × period); absent in older runs, which used the kernel's 100 ms. */
  throttlePeriodMs?: number;
  /** How each server is warmed to steady state: once when started, then briefly at each new load. Absent in older runs. */
  warmup?: { session: WarmupPolicy; load: WarmupPolicy };
  /** A server is not pushed past a load whose mean latency exceeds this, ms. */
  latencyCapMs: number;
  /** ... or whose errors exceed this share of requests (0.05 = 5%). */
  errorShareCap: number;
  /**
   * Version of each runtime ("1.4.5") the TypeScript servers run under, when any runs under Bun or Deno
   * (`--runtimes`, servers named `events@bun`, `bun-serve`); absent when every one ran under Node.
   */
  runtimes?: Partial<Record<'node' | 'bun' | 'deno', string>>;
  /**
   * The user's own servers of this run (--server, --servers-file), as resolved when it started: each entry's fields
   * are those of a servers file (name, command, absolute cwd, env, ready {timeoutS, path}, paperRow, label, connection,
   * slow; src/servers/user/spec.ts), plus `source` (where it was defined) and `serveArgs` (the flags `eventbench
   * serve` was given to find it). Absent when the run has none.
   */
  userServers?: RecordedUserServer[];
  /** Servers eventbench did not start (`--url [NAME=]URL`), by name; absent when the run has none. */
  urls?: { name: string; url: string }[];
  /**
   * The half-width asked of every server's ratio interval to the reference, as a share (0.1: ±10%, `--precision`):
   * after the planned rounds, rounds are added for the servers whose intervals are widest until every one is this
   * narrow or the budget is spent (src/sweep/sharpen.ts). Absent: the planned rounds only (older runs, --repeat,
   * --quick).
   */
  precision?: number;
  /** Seconds the whole run may take (`--budget`): every phase and the report; set with `precision`. */
  budgetS?: number;
  /**
   * The server the run divides by (`--reference`, else chosen when the run starts: lighttpd, native-epoll, events,
   * the first): in the paired design every cycle sweeps it between the others; before run/4 it was measured in every
   * added round, and absent meant the report's default.
   */
  reference?: string;
  /** How `serverCpuShare` was chosen: from the calibration of the client's capacity (`auto`), or as given. */
  serverCpuShareFrom?: 'auto' | 'asked';
}

/** A round added after the planned ones (run --precision), for the servers whose ratio intervals were widest. */
export interface AddedRound {
  /** Its number: the rounds before it, planned and added, plus one. */
  round: number;
  /** The servers it measures, in the order it measures them (seeded, as a planned round's), the reference among them. */
  servers: string[];
  /** The reference its ratios divide by. */
  reference: string;
  /**
   * Why each server other than the reference is in it: its ratio interval's half-width before the round, as a share
   * (null: unbounded, for want of a second round with the reference), and the rounds it had.
   */
  sharpening: { server: string; halfWidth: number | null; rounds: number }[];
}

/** What the run's rounds made of the precision asked, once its closed sweep ended. */
export interface PrecisionOutcome {
  /** The half-width asked (Plan.precision) and the reference of the ratios. */
  asked: number;
  reference: string;
  /** Servers whose ratio interval is at least that narrow. */
  reached: string[];
  /** The others: half-width as a share (null: unbounded), rounds paired with the reference; no ratio: `noRatio`. */
  missed: { server: string; halfWidth: number | null; rounds: number }[];
  /** Servers with no ratio to sharpen (no positive slope: every point flagged, or stopped before a second load). */
  noRatio: string[];
  /** Why no further round was added: every server reached the precision, or the next round did not fit the budget. */
  stopped: string;
}

/** The phases of a run, in the order they run: the closed sweep, then the open loop, then the memory experiment. */
export type PhaseName = 'closed' | 'open' | 'memory';

/** A phase asked for, with its plan (the closed sweep's is RunInfo.plan, which the others share: servers, rounds). */
export type PhasePlan =
  | { phase: 'closed' }
  | {
      phase: 'open';
      /** Offered rates as fractions of each server's closed-loop capacity in this run, ascending. */
      rateFractions: number[];
      /** Seconds of each open-loop point, at least (the plan's durationS when longer). */
      minDurationS: number;
    }
  | {
      phase: 'memory';
      /** Idle connections held, ascending; each level adds to the one before. */
      levels: number[];
      /** The memory budget a server stops at and is extrapolated to, bytes. */
      budgetBytes: number;
      /** The servers' idle timeout, s; how long a level may take to settle, and how far apart its looks are, ms. */
      idleTimeoutS: number;
      settleMaxMs: number;
      settleLookMs: number;
      quick: boolean;
    };

/** A cycle added after the planned ones (paired design, run --precision), for the servers whose intervals were widest. */
export interface AddedCycle {
  round: number;
  /** Its number within the round: the cycles before it, planned and added, plus one. */
  cycle: number;
  /** The servers it sweeps, in order, the reference among them (every Plan.referenceEvery others). */
  servers: string[];
  reference: string;
  /** Why each server other than the reference is in it: its ratio interval's half-width before it (null: unbounded). */
  sharpening: { server: string; halfWidth: number | null; cycles: number }[];
}


export interface RunInfo {
  schema: typeof RUN_SCHEMA;
  id: string;
  startedAt: string;
  /** Set when the run finished every point, or was interrupted (then `interrupted` is true). */
  finishedAt?: string;
  interrupted?: boolean;
  plan: Plan;
  /** Every phase asked for, in run order (run/1 folders: the closed sweep only). */
  phases: PhasePlan[];
  /** The host as the closed sweep set it up (the open loop sets it up alike; the memory phase unthrottled, unpinned). */
  host: HostSetup;
  environment: Environment;
  /** Where the servers and the clients ran, and the path between them (absent before run/3: both here, over loopback). */
  hosts?: RunHosts;
  /** Servers asked for (or in the default set) that could not run here, and why. */
  skipped: { server: string; reason: string }[];
  /** Phases left with points missing that could not be measured (a server no longer installed, on resume), and why. */
  incomplete?: { phase: PhaseName; why: string }[];
  /** Everything the runner warned about, in order. */
  warnings: string[];
  /** Rounds added after the planned ones (Plan.precision, before run/4), in order; resumed like planned ones. */
  addedRounds?: AddedRound[];
  /** Cycles added after the planned ones (paired design, Plan.precision), in order; resumed like planned ones. */
  addedCycles?: AddedCycle[];
  /** The client's capacity and the quota chosen from it (run/4), when the run calibrated. */
  calibration?: Calibration;
  /** Set when the closed sweep ended with Plan.precision asked. */
  precisionOutcome?: PrecisionOutcome;
  /** Sessions the run has had: 1, and one more at each `--resume` (paired design: points record theirs). */
  sessions?: number;
  /** Seconds the run has spent measuring over all its sessions (a resume counts on from here, not from startedAt). */
  spentS?: number;
  /**
   * Set when the run ended past Plan.budgetS: by how many seconds (its report included, as priced), and why (the
   * planned rounds always run whole: validity first).
   */
  overBudget?: { byS: number; why: string };
  /**
   * Set when the run stopped because a host failed for good (its agent answered garbled, or failed the same point
   * twice, the second time on a fresh link): that host's line. `--resume` goes on from there.
   */
  hostFault?: string;
}

export interface Point {
  schema: typeof POINT_SCHEMA;
  server: string;
  /** Where it comes from: typescript, native, production, or user (the user's own: --server, --servers-file). */
  family: Family;
  /** The row of the paper's Figure 2 this server answers, if any ("ST", "lighttpd", ...). */
  paperRow?: string;
  /** A user's server (family "user"): its one-line label, as its servers file gave it. */
  label?: string;
  /**
   * A server eventbench did not start (`run --url`), measured where it answers: nothing pinned, throttled or sampled
   * it, so its points have no `metrics` and are flagged `unthrottled`.
   */
  url?: string;
  /** Offered load (the paper's l). */
  load: number;
  /** The round it was measured in, from 1 (point/1: `repeat`): its server's process. */
  round: number;
  /** Its cycle within the round, from 1 (paired design, run/4). */
  cycle?: number;
  /** Its sweep's number in the run, from 1, in the order the sweeps ran (paired design, run/4; visits.jsonl). */
  visit?: number;
  /**
   * The session of the run it was measured in (paired design), from 1; a `--resume` starts the next. A round
   * interrupted and resumed has a process of its own in each session, so round and session name the process.
   */
  session?: number;
  /** "ok": measured; "failed": the server or the client failed (see reason); no result then. */
  status: 'ok' | 'failed';
  reason?: string;
  /** Set on the last point measured for a server that the stop rules kept from higher loads. */
  stopped?: string;
  /**
   * Set with `stopped` when the stop rules retired the server from every later round too: it was too slow at its
   * lowest load for a point of this length to measure it (src/sweep/stop.ts). Absent in older runs.
   */
  retired?: true;
  /**
   * Set when this point was measured a second time, on a fresh link to its host, because the first try failed for a
   * host reason (its agent or ssh gone, or stuck past its deadline): that reason, in one line. Absent in older runs.
   */
  retried?: string;
  startedAt: string;
  result?: LoadResult;
  metrics?: ServerMetrics;
  /**
   * How the server was warmed before this point (src/load/warmup.ts): `session` when it was started for
   * this point's sweep (its first load), `load` the settle at this point's load. Absent in older runs.
   */
  warmup?: { session?: Warmup; load?: Warmup };
  /** Why this point cannot be trusted (src/results/verdict.ts); empty or absent when it can. Flagged points stay out of fits. */
  flags?: PointFlag[];
}

/**
 * One open-loop point, one line of open-loop.jsonl: a closed-loop Point's fields (`stopped` says which rate a stop
 * rule ended at, `result` is an open-loop LoadResult with `openLoop`, `flags` the rules of verdict.ts that apply to
 * an open loop; flagged points stay out of the knee), with the offered rate in place of the load.
 */
export interface OpenPoint extends Omit<Point, 'schema' | 'load'> {
  schema: typeof OPEN_POINT_SCHEMA;
  /** The offered rate as a fraction of capacityRps. */
  rateFraction: number;
  /** The server's closed-loop capacity in this run: its highest throughput over the sweep, requests/s. */
  capacityRps: number;
  /** The offered rate, requests/s (rateFraction × capacityRps, rounded). */
  rateRps: number;
}

/** One level of one server in the memory experiment. */
export interface MemoryLevel {
  /** Connections this client held open, each having sent PARTIAL_HEAD (src/experiments/memory.ts). */
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
  /** Whether its memory settled (two looks MemoryRun.settleLookMs apart within 0.5%) before it was measured. */
  settled: boolean;
  /**
   * The kernel memory charged to the server's memory cgroup, or held by the whole host (MemoryServer.kernel.source
   * says which), read with memoryBytes; bytes, with its named parts. Absent in eventbench.memory/1.
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

/** One server's memory measurement. */
export interface MemoryServer {
  server: string;
  family: Family;
  paperRow?: string;
  /** How its model holds a connection (src/servers/types.ts), which side of the paper's claim it is on; absent in older files. */
  connection?: ConnectionKind;
  status: 'ok' | 'failed';
  /** Why it failed (status 'failed'). */
  reason?: string;
  levels: MemoryLevel[];
  /** Where it stopped below the largest level asked, and why (connects refused, its cap, the budget, open files). */
  stopped?: { connections: number; why: string };
  /** The line through the levels, when at least two distinct connection counts were measured. */
  fit?: MemoryFit;
  /** Whether the fit is a figure: r ≥ MIN_MEMORY_R (0.9) and a positive slope; else why not ("not measurable here"). */
  measurable: boolean;
  why?: string;
  /** Connections it would hold within the budget: (budget − intercept) / slope, extrapolated, never measured. */
  connectionsInBudget?: { connections: number; extrapolated: true };
  /** The kernel's memory per connection (absent in eventbench.memory/1). */
  kernel?: KernelCost;
}

/** The kernel's memory per connection, beside the user-space figure (src/host/memory-cgroup.ts says how it is read). */
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

/** memory.json: one memory experiment, of `eventbench memory` or of a run's memory phase. */
export interface MemoryRun {
  /** eventbench.memory/2; /1 files lack the kernel fields. */
  schema: typeof MEMORY_SCHEMA | typeof OLD_SCHEMAS.memory;
  startedAt: string;
  finishedAt?: string;
  environment: Environment;
  /** Levels asked, connections. */
  levels: number[];
  /** The budget of connectionsInBudget, bytes. */
  budgetBytes: number;
  /** The idle timeout the servers were started with, s. */
  idleTimeoutS: number;
  /** How far apart the looks at a level's memory were, ms (absent: 250, as `eventbench memory` looks). */
  settleLookMs?: number;
  /** The soft open-files limit of the client (it holds every connection), and net.core.somaxconn. */
  openFilesLimit?: number;
  somaxconn?: number;
  quick: boolean;
  servers: MemoryServer[];
}

/**
 * One line of visits.jsonl: a sweep of the paired design as it ran, or the end of a round. Times are wall-clock ms
 * (performance.timeOrigin + performance.now(): monotonic within a session); CPU seconds are each live server's
 * cgroup's since it started (src/host/hosts.ts cpuUsage), by server name; a server whose host keeps no count is absent.
 */
export type VisitRecord =
  | {
      schema: typeof VISIT_SCHEMA;
      kind: 'visit';
      server: string;
      round: number;
      cycle: number;
      visit: number;
      session: number;
      startMs: number;
      endMs: number;
      cpuStartS: Record<string, number>;
      cpuEndS: Record<string, number>;
      /**
       * A later visit of its round starts with a warm-up at the full core: when it ended, and the CPU then. The visit's
       * points cost cpuEndS − cpuWarmedS; cpuStartS, read before the warm-up, closes the gap since the last visit.
       */
      warmedMs?: number;
      cpuWarmedS?: Record<string, number>;
      /** Requests the server completed in the sweep, its settles and its points (trimmed ones included). */
      requests: number;
    }
  | { schema: typeof VISIT_SCHEMA; kind: 'round-end'; round: number; session: number; atMs: number; cpuS: Record<string, number> };
