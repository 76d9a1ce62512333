// The results files of `eventbench run`, documented once. A run folder holds:
//   run.json      RunInfo: the plan, the host set-up and the environment (rewritten as the run goes on)
//   points.jsonl  one Point per line, appended the moment it is measured
// Change a field: bump the version in RUN_SCHEMA / POINT_SCHEMA; readers refuse other versions with a clear error.
import type { Family } from '../servers/types.js';
import type { UserServerSpec } from '../servers/user/spec.js';
import type { Environment } from '../core/environment.js';
import type { Engine, LoadResult } from '../load/types.js';
import type { PointFlag } from './verdict.js';
import type { Warmup, WarmupPolicy } from './warmup.js';

export const RUN_SCHEMA = 'eventbench.run/1';
export const POINT_SCHEMA = 'eventbench.point/1';
export const RUN_FILE = 'run.json';
export const POINTS_FILE = 'points.jsonl';

export type { Family };

export interface Plan {
  /** Server model names, in the order they are run. */
  servers: string[];
  /** Offered loads (the paper's l), ascending. */
  loads: number[];
  /** Rounds: each measures every server at every load once; a point's `repeat` is its round. */
  repeat: number;
  /** Seed of the per-round shuffle of the server order (src/sweep/plan.ts roundOrder); absent in runs before rounds. */
  seed?: number;
  /** Requests per point, or undefined when the point is time-bound. */
  requests?: number;
  /**
   * Seconds per point, or undefined when the point is count-bound. A point at a high load may run up to 3× this
   * so that 4·load requests fit (src/sweep/plan.ts pointDurationS); its result records what it ran.
   */
  durationS?: number;
  /** Requests dropped at each end of a point: the smaller of this and the point's load (its closed-loop ramp). */
  trim: number;
  pageBytes: number;
  /** Listen backlog asked of every server. */
  backlog: number;
  engine: Engine;
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
   * are those of a servers file (name, command, absolute cwd, env, ready {timeoutS, path}, paperRow, label, kind,
   * slow; src/servers/user/spec.ts), plus `source` (where it was defined) and `serveArgs` (the flags `eventbench
   * serve` was given to find it). Absent when the run has none.
   */
  userServers?: (UserServerSpec & { serveArgs: string[] })[];
  /** Servers eventbench did not start (`--url [NAME=]URL`), by name; absent when the run has none. */
  urls?: { name: string; url: string }[];
}

export interface HostSetup {
  /** somaxconn, tcp_max_syn_backlog, ip_local_port_range as read from /proc/sys. */
  somaxconn?: number;
  tcpMaxSynBacklog?: number;
  ipLocalPortRange?: string;
  /** How the server was throttled: "cgroup-v1", "cgroup-v2" or "none" (with why). */
  throttle: {
    mechanism: 'cgroup-v1' | 'cgroup-v2' | 'none';
    share: number;
    /** The quota's period, ms (absent in runs made before it was recorded: those used the kernel's 100 ms). */
    periodMs?: number;
    reason?: string;
  };
  /** Whether taskset pinning was applied. */
  pinned: boolean;
}

export interface RunInfo {
  schema: typeof RUN_SCHEMA;
  id: string;
  startedAt: string;
  /** Set when the run finished every point, or was interrupted (then `interrupted` is true). */
  finishedAt?: string;
  interrupted?: boolean;
  plan: Plan;
  host: HostSetup;
  environment: Environment;
  /** Servers asked for (or in the default set) that could not run here, and why. */
  skipped: { server: string; reason: string }[];
  /** Everything the runner warned about, in order. */
  warnings: string[];
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
  /** 1-based repeat index. */
  repeat: number;
  /** "ok": measured; "failed": the server or the client failed (see reason); no result then. */
  status: 'ok' | 'failed';
  reason?: string;
  /** Set on the last point measured for a server that the stop rules kept from higher loads. */
  stopped?: string;
  startedAt: string;
  result?: LoadResult;
  metrics?: ServerMetrics;
  /**
   * How the server was warmed before this point (src/sweep/warmup.ts): `session` when it was started for
   * this point's sweep (its first load), `load` the settle at this point's load. Absent in older runs.
   */
  warmup?: { session?: Warmup; load?: Warmup };
  /** Why this point cannot be trusted (src/sweep/verdict.ts); empty or absent when it can. Flagged points stay out of fits. */
  flags?: PointFlag[];
}
