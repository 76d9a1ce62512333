// What the sweep engine asks of the machines it measures on, as two narrow interfaces: the server's host (set up the
// throttle, start a server pinned and under the quota, sample it, stop it) and the client's host (pin the runner's
// own warm-ups, warm a server, run one load). Everything that crosses them is plain data, so that either side can
// sit behind a pipe (an agent on another machine speaking JSON lines) as well as in this process (./local.ts).
// Cancellation is the one thing that is not data: each call that waits takes an AbortSignal beside its request.
import type { Environment } from '../core/environment.js';
import type { LoadResult } from '../load/types.js';
import type { Warmup, WarmupPolicy } from '../load/warmup.js';
import type { LoadArgs } from '../load/options.js';
import type { KernelMemory, KernelSource } from './memory-cgroup.js';
import type { HostSetup } from './throttle.js';

export type { HostSetup };
import type { Availability, Family } from '../servers/types.js';

/** How a phase sets up the server's host: pinned to `cpus` (absent: unpinned), under a CPU quota (share 0: none). */
export interface ServerHostSetUp {
  cpus?: string;
  cpuShare: number;
  periodMs: number;
}

/** A server to start. `argv` replaces the default `eventbench serve NAME ...serveFlags` (tests and benches). */
export interface ServerSpec {
  name: string;
  family: Family;
  /** Flags after `eventbench serve NAME`: port, backlog, page size, idle timeout... */
  serveFlags: string[];
  argv?: string[];
  /** The backlog asked for, to report the one in force. */
  backlog: number;
  /** How long it may take to print its `listening on` line (native servers compile on first use), ms. */
  readyTimeoutMs: number;
  /**
   * A server eventbench does not start (`run --url`): measured where it answers; nothing is started, pinned, throttled,
   * sampled or stopped, and the host only says it is still there.
   */
  url?: string;
  /** Leave it at the full core once ready, for a warm-up; `throttle` puts it under its quota after. */
  throttleAfterWarmUp?: boolean;
}

/** A started server: its handle on the host, where it answers, and its listen backlog asked and in force. */
export interface StartedServer {
  id: string;
  url: string;
  backlog: { requested: number; effective: number };
  /** What went wrong on the way that is worth a warning (a process that could not be put under the quota). */
  warnings: string[];
  /** A server eventbench did not start (ServerSpec.url): there is nothing of it to sample. */
  external?: true;
}

/** The memory of a server's process tree, its node wrapper left out (src/experiments/memory.ts says why). */
export interface TreeMemory {
  memoryBytes: number;
  /** 'pss' when the tree has several processes (shared pages once), 'rss' for one. */
  measure: 'pss' | 'rss';
  processes: number;
  threads: number;
}

/**
 * The kernel's memory for a server, which PSS and RSS leave out (src/host/memory-cgroup.ts): where it is read from
 * (the server's own memory cgroup, or the whole host and why), and the figure now when it could be read.
 */
export interface KernelLook {
  source: KernelSource;
  reason?: string;
  memory?: KernelMemory;
}

/** What the server's host saw of a server over one measurement (ServerMetrics without what the runner adds). */
export type ServerSample = Omit<ServerMetrics, 'backlog'>;

export interface ServerHost {
  /** What the host is and runs: kernel, CPU, runtime and eventbench versions (recorded with the run). */
  environment(): Promise<Environment>;
  /** Whether the server model `name` (MODEL@runtime allowed) can run on this host, or why not and how to fix it. */
  available(name: string): Promise<Availability>;
  /**
   * Sets the phase up: the cores its servers are pinned to, and the quota each server gets in a cgroup of its own;
   * says what is in force (recorded in run.json), and what to warn about.
   */
  setUp(o: ServerHostSetUp): Promise<{ host: HostSetup; warnings: string[] }>;
  /** Starts a server and waits for its `listening on` line; resolves to it, to why it failed, or to 'aborted'. */
  start(spec: ServerSpec, signal?: AbortSignal): Promise<StartedServer | { failed: string } | 'aborted'>;
  /** Puts a server started with `throttleAfterWarmUp`, or lifted by `unthrottle`, under the phase's quota; warnings. */
  throttle(id: string): Promise<string[]>;
  /** Lifts a throttled server's quota, for a warm-up at the full core (its processes stay in their cgroup). */
  unthrottle(id: string): Promise<string[]>;
  /**
   * The CPU seconds each server's cgroup has used since it started (its children and threads included, those gone
   * too), by id; undefined for a server without one (unthrottled, or a host that keeps no such count).
   */
  cpuUsage(ids: readonly string[]): Promise<Record<string, number | undefined>>;
  /** Why the server is no longer running (`during` says when), or undefined while it runs. */
  exitReason(id: string, during?: string): Promise<string | undefined>;
  /** Starts sampling the server's tree (CPU, memory, accept queue, quota periods) for one measurement. */
  startSampling(id: string): Promise<void>;
  /** Stops sampling; `loadSpan` (wall-clock ms) is the load's own span, over which its CPU share is read. */
  stopSampling(id: string, loadSpan?: { fromMs: number; toMs: number }): Promise<{ sample: ServerSample; warnings: string[] }>;
  /**
   * Its tree's memory now, the memory the host has available (MemAvailable), bytes, and its kernel memory: the first
   * call puts the server's processes in a memory cgroup of their own, charged from then on (children follow).
   */
  memory(id: string): Promise<TreeMemory & { hostAvailableBytes: number; kernel: KernelLook }>;
  /** Connections established to its port and waiting in its accept queue (ss), each undefined where unknown. */
  connections(id: string): Promise<{ established?: number; queued?: number }>;
  /** SIGTERM, SIGKILL after a grace, then anything of it left killed by pid; resolves with warnings. */
  stop(id: string): Promise<string[]>;
  /** Removes the throttle; resolves with warnings (a cgroup that could not be removed). */
  tearDown(): Promise<string[]>;
}

/** One run of the load client: `eventbench load URL ...flags` from the client's cores, killed after `limitS`. */
export interface LoadSpec {
  url: string;
  flags: string[];
  limitS: number;
  /**
   * The same load as data when it is a closed loop (the flags are closedLoadFlags of it): a client host that splits
   * it over agents (`run --client-hosts`) reads it here; one that runs `eventbench load` reads the flags.
   */
  closed?: LoadArgs;
}

/** A warm-up: `concurrency` clients in windows by `policy`; `jit`: the server's code compiles as it runs. */
export interface WarmRequest {
  url: string;
  concurrency: number;
  policy: WarmupPolicy;
  timeoutS: number;
  jit: boolean;
}

export interface ClientHost {
  environment(): Promise<Environment>;
  /** Pins the runner's own warm-ups to `cpus` (absent: left as it is); restored by tearDown. */
  setUp(o: { cpus?: string }): Promise<{ pinned: boolean; warnings: string[] }>;
  /** Drives the server in windows until steady (src/load/warmup.ts). */
  warm(o: WarmRequest, signal?: AbortSignal): Promise<Warmup>;
  /** Runs one load; its result, why there is none, or aborted. */
  load(spec: LoadSpec, signal?: AbortSignal): Promise<{ result?: LoadResult; error?: string; aborted?: true }>;
  tearDown(): Promise<string[]>;
}

export interface Hosts {
  server: ServerHost;
  client: ClientHost;
}

/** What the runner sampled of the server's whole process tree during the measurement. */
export interface ServerMetrics {
  /** CPU seconds (user + system) the tree used during the measurement. */
  cpuS: number;
  /** cpuS over the measurement's wall time (1 = one full core), the client's start and exit included. */
  cpuShare: number;
  /**
   * CPU share over the load's own span (first request started to last one ended), where a saturated server uses
   * its whole quota: compared with the throttle's target to flag a quota the kernel did not enforce as asked.
   * Absent in older runs, or when the span was too short to read (under two 50 ms samples).
   */
  loadCpuShare?: number;
  /**
   * Quota periods that elapsed during the measurement, and those in which the server used up its quota and was
   * held back: a CPU-bound server is throttled in most of them. Absent without a cgroup, and in older runs.
   */
  quotaPeriods?: { total: number; throttled: number };
  /**
   * The server's own accept queue, sampled every 100 ms with `ss -lnt` during the measurement: the longest queue
   * seen, the backlog in force, and the number of looks. A queue at its backlog is full (new SYNs are dropped).
   * Unlike listenOverflows, which counts the whole host, this is the server's port. Absent without ss, and in older runs.
   */
  acceptQueue?: { peak: number; backlog: number; samples: number };
  /** Peak of the summed resident memory of every process in the tree, bytes. */
  peakRssBytes: number;
  /** Resident memory just before the load started, bytes. */
  idleRssBytes: number;
  peakProcesses: number;
  peakThreads: number;
  /**
   * Growth of /proc/net/netstat TcpExt ListenOverflows and ListenDrops over the point (host-wide counters).
   * Absent where /proc/net/netstat could not be read (the run warns): never a 0 that was not measured.
   */
  listenOverflows?: number;
  listenDrops?: number;
  /** Listen backlog asked for, and in force (min with somaxconn; the server's own cap where it has one). */
  backlog: { requested: number; effective: number };
}
