// The load generator's public types: its options and the versioned result it returns (and prints with --json).
// Every field carries its unit in its name or its comment. Change a field: bump LOAD_SCHEMA.
import type { Steadiness } from './steady.js';
import type { Environment } from '../core/environment.js';
import type { TransportChoice, TransportName } from './transport.js';

// load/2 (open loop): adds the error kind `inflight`, and `loop` and `openLoop` on open-loop results. A load/1 file
// reads as a closed-loop result whose errors lack `inflight` (read it as 0).
// load/3: adds `fairness` and `latencyBuckets` to the eventbench engine's closed-loop results, and `agents` and
// `verdict.startSpread` on a load merged from several agents; older files read as results without them.
export const LOAD_SCHEMA = 'eventbench.load/3';

export type Engine = 'eventbench' | 'ab';

export interface LoadOptions {
  /** http://host:port/path; host must be an IP literal or a name that resolves. */
  url: string;
  /** Requests kept in flight at all times (the paper's l). */
  concurrency: number;
  /** Stop after this many requests have been started. At least one of requests / durationS is set. */
  requests?: number;
  /** Stop starting requests after this many seconds. */
  durationS?: number;
  /** Per-request timeout, seconds (ab: 30). */
  timeoutS: number;
  /** Requests dropped at each end, by start order (paper: 1000). */
  trim: number;
  /** Reuse HTTP/1.1 connections instead of one fresh connection per request. */
  keepalive: boolean;
  /** Stop after this many errors (undefined: never). */
  bailout?: number;
  /** Worker threads, each with its own loop; results merged. */
  workers: number;
  engine: Engine;
  /** HTTP method, GET by default (HEAD allowed). */
  method: 'GET' | 'HEAD';
  /** Write per-request records as CSV here, in start order. */
  rawFile?: string;
  /**
   * Connection layer of the eventbench engine (load/transport.ts): epoll (the system calls through the FFI),
   * tcp_wrap (libuv handles), net (net.Socket), or auto (the first of those that runs here); DEFAULT_TRANSPORT
   * when unset.
   */
  transport?: TransportChoice;
  /**
   * Start the first request at this instant of performance.now() (ms), once everything else is ready: an agent's
   * share of a load starts at the instant scheduled for all of them (src/host/agent.ts).
   */
  startAtMs?: number;
  /** Cancels the run; what was measured so far is still returned. */
  signal?: AbortSignal;
  /** Called about 10 times a second with progress, for a bar on stderr. */
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  started: number;
  completed: number;
  errors: number;
  elapsedS: number;
  /** Requests planned, or undefined for a time-bound run. */
  total?: number;
  durationS?: number;
}

/** Summary of one timing phase over the kept requests, milliseconds. */
export interface PhaseMs {
  min: number;
  mean: number;
  sd: number;
  median: number;
  max: number;
}

export const PERCENTILES = [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 100] as const;

export interface LatencyMs extends PhaseMs {
  /** Keyed "50", "66", ..., "99.9", "100"; milliseconds. */
  percentiles: Record<string, number>;
}

/** `inflight` (open loop only): a request due by the schedule found --max-inflight requests in flight and was not sent. */
export type ErrorKind = 'connect' | 'reset' | 'timeout' | 'status' | 'length' | 'other' | 'inflight';
export const ERROR_KINDS: readonly ErrorKind[] = ['connect', 'reset', 'timeout', 'status', 'length', 'other', 'inflight'];
/** Errors by kind and their total; `inflight` is absent from load/1 files. */
export type ErrorCounts = Record<Exclude<ErrorKind, 'inflight'>, number> & { inflight?: number; total: number };

export interface LoadResult {
  schema: typeof LOAD_SCHEMA;
  engine: Engine;
  /**
   * How the eventbench engine opened connections: "epoll" (the system calls through the FFI, load/epoll.ts),
   * "tcp_wrap" (libuv handles) or "net" (net.Socket); absent for ab. Results before epoll have only the other two.
   */
  transport?: TransportName;
  url: string;
  /** "close": a fresh TCP connection per request (as ab); "keepalive": reused HTTP/1.1 connections. */
  mode: 'close' | 'keepalive';
  concurrency: number;
  workers: number;
  /** Requests started in the whole run, kept or not. */
  requestsStarted: number;
  /** Requests that finished (ok or error) in the whole run. */
  requestsCompleted: number;
  /** Requests kept after trimming: the n of the paper's formulas. */
  requests: number;
  /** Requests dropped at each end, by start order. */
  trim: number;
  /** Set when trim was lowered because 2·trim exceeded half the requests. */
  trimNote?: string;
  /** Span of the kept window, first kept start to last kept end, seconds: the paper's t. */
  durationS: number;
  /** Whole run, first start to last end, seconds. */
  totalDurationS: number;
  /** Responses (any status) that ended in the kept window's steady part (first to last kept start), per second of it. */
  throughputRps: number;
  /**
   * The paper's l_m = n·t_r/t: the average number of requests in flight over the kept window's steady part (first
   * to last kept start), where every request that got a response counts for the time it spent inside (kept or
   * trimmed, so the window's edges do not bias it). Close to concurrency when the client kept the server saturated.
   */
  measuredLoad: number;
  /**
   * Requests in flight past their TCP handshake: the average number, over the same window as measuredLoad, of
   * requests whose connection the client saw established and whose response had not ended, Σ(end − connected)/t.
   * Where the accept queue overflows, requests wait for a SYN retransmission (1 s and more) before their
   * handshake: they count in measuredLoad but not here, so this is the load the server really held, and it
   * flattens near the accept queue's length as the paper's Figure 1(a) did. Absent in older results and for ab.
   */
  connectedLoad?: number;
  /** Requests of the whole run whose connect took SYN_RETRY_MS (1 s) or more: a SYN was dropped and resent. */
  slowConnects?: number;
  /** Total time per kept request (start to end), ms. */
  latencyMs: LatencyMs;
  /** ab's breakdown, ms: connect (start to connected), processing (connected to end), waiting (request sent to first byte), total. */
  phasesMs: { connect: PhaseMs; processing: PhaseMs; waiting: PhaseMs; total: PhaseMs };
  /** Response bytes received in the kept window, headers included. */
  bytesReceived: number;
  /** Body length set by the first good response (ab's "Document Length"), bytes. */
  documentBytes: number | null;
  /** Errors in the whole run, by kind, and their total. Errors count in latency figures only if kept. */
  errors: ErrorCounts;
  /** Responses by HTTP status code, whole run. */
  statusCounts: Record<string, number>;
  /**
   * The client's own CPU time over the run; share is CPU seconds over wall seconds (1 = one full core). Merged from
   * agents: summed over them (share in cores), each agent's own in `agents`.
   */
  clientCpu: { userS: number; systemS: number; share: number };
  /**
   * The kept window's first third against its last (by start order): throughput and mean latency of each, their
   * largest relative difference, and whether it is within tolerance (src/load/steady.ts). Absent with too few
   * requests, and for the ab engine, which keeps no per-request records.
   */
  steadiness?: Steadiness;
  /**
   * Whether this measurement can be trusted, and why not: `clientBound` when the client, not the server, may have
   * set the pace; `notSteady` when the kept window's first and last parts disagree (the server was still warming
   * up or drifting); `backlogBound` when requests waited on the kernel's SYN retransmission (the accept queue
   * overflowed); `startSpread` (agents only) when the agents' first requests may have started further apart than
   * 5% of the kept window, clock bounds included. Each reason is one sentence with the figures.
   */
  verdict: { clientBound: boolean; notSteady?: boolean; backlogBound?: boolean; startSpread?: boolean; reasons: string[] };
  /**
   * How evenly the clients were served over the kept window (closed loop, eventbench engine; absent for ab, the
   * open loop, a point that served nothing, and results before load/3).
   */
  fairness?: Fairness;
  /**
   * The kept served requests' latency (start to end) counted on log buckets: the whole distribution, for a CDF;
   * merge repeats by adding counts (closed loop, eventbench engine; absent before load/3).
   */
  latencyBuckets?: LatencyBuckets;
  /** "open" for the open loop (`--rate`): requests start on a schedule; absent or "closed" for the closed loop. */
  loop?: 'closed' | 'open';
  /** The open loop's own figures (open loop only). There `concurrency` is the most requests in flight at once. */
  openLoop?: OpenLoopFigures;
  /** Set when the run ended early: "bailout", "aborted", "server-gone" (connections refused in a row), "record-limit". */
  stoppedEarly?: string;
  startedAt: string;
  /** Where the result was made (merged from agents: the runner's host; each agent's own is in `agents`). */
  environment: Environment;
  /** A load split over several agents (`eventbench load --agents`): each one's share, clock and verdict. */
  agents?: AgentsSection;
}

/**
 * How a load split over agents was merged (src/load/merge.ts). Each agent's requests are mapped to the runner's
 * clock with that agent's measured offset; the kept window is the span every agent covers (from the latest of their
 * own kept windows' first starts to the earliest of their last kept starts, each agent having dropped its own share
 * of --trim by its own start order); every figure of the result is read over it from all agents' requests together,
 * so percentiles come from the merged set, never from averaged percentiles.
 */
export interface AgentsSection {
  /** The instant all agents were told to start, on the runner's clock: ISO 8601. */
  scheduledAt: string;
  /**
   * How far apart the agents' first requests may have started, ms: the latest start plus its clock bound minus the
   * earliest start minus its clock bound, on the runner's clock.
   */
  startSpreadMs: number;
  /** The spread allowed, ms: 5% of the kept window (durationS). Over it, verdict.startSpread is set. */
  startSpreadLimitMs: number;
  parts: AgentShare[];
}

/** One agent's part of a merged load. */
export interface AgentShare {
  /** "local", or "ssh://[user@]host[:port]" as given. */
  host: string;
  /** Its host name, as it reported it. */
  hostname: string;
  /** Its share of the load: requests it kept in flight. The shares add up to the result's concurrency. */
  concurrency: number;
  /** Its share of -n, when the load was count-bound. */
  requests?: number;
  /** Its worker threads. */
  workers: number;
  /** Requests it dropped at each end of its own run, by its own start order (its share of --trim, as applied). */
  trim: number;
  /** Its clock minus the runner's, ms, from round trips over the link (NTP-style, src/core/clock-offset.ts). */
  clockOffsetMs: number;
  /** The offset's error is within ± this, ms: half the round trip of the best of the probes. */
  clockBoundMs: number;
  /** Its first request's start minus the scheduled instant, on the runner's clock, ms. */
  startLagMs: number;
  /** Its own kept window's first and last start, on the runner's clock, ms after the scheduled instant. */
  keptFromMs: number;
  keptToMs: number;
  /** Its requests in flight over the span every agent covers (its l_m there); the result's measuredLoad is their sum. */
  measuredLoad: number;
  /** Its requests among the result's kept ones. */
  requestsKept: number;
  /** Its own CPU over its run, share of a core (1 = one full core). */
  clientCpuShare: number;
  /**
   * Its own verdict over its own share and run, as `eventbench load` there would give it: client-bound when its l_m
   * fell below 95% of its share or it used over 90% of its cores. Any client-bound agent makes the result client-bound.
   */
  verdict: LoadResult['verdict'];
  /** Where it ran. */
  environment: Environment;
}

/**
 * How evenly a closed loop's clients (its slots, each with one request in flight at a time) were served: from each
 * client's count x_i of requests that got a response in the kept window (src/load/distribution.ts).
 */
export interface Fairness {
  /** Clients counted: the loop's concurrency, a client that got nothing included (as 0). */
  clients: number;
  /** Jain's fairness index (Σx)² / (n·Σx²), unitless: 1 when every client was served alike, 1/n when one got all. */
  jainIndex: number;
  /** The slowest client's requests over the mean client's, n·min(x)/Σx, unitless: 1 = its fair share, 0 = starved. */
  slowestClientShare: number;
}

/**
 * Latencies counted on log buckets: bucket k holds the requests served in [10^(k/perDecade), 10^((k+1)/perDecade))
 * milliseconds; `counts[i]` is bucket `first + i`, dense from the fastest request's bucket to the slowest's.
 */
export interface LatencyBuckets {
  /** Buckets per decade of milliseconds (20: each 12% wide). */
  perDecade: number;
  /** The bucket index k of counts[0] (negative below 1 ms). */
  first: number;
  /** Requests per bucket. */
  counts: number[];
}

/**
 * Measured load below this share of the offered load means the client did not keep `l` requests in flight: the
 * load verdict's client-bound test and the report's (CLIENT_BOUND_SHARE) both read it here.
 */
export const MEASURED_LOAD_FLOOR = 0.95;

export type Arrivals = 'uniform' | 'poisson';

/**
 * What the open loop adds to a result. Latency (latencyMs, phasesMs) counts from each request's SCHEDULED start, so
 * time the request waited because the server or the client was behind is in it (no coordinated omission); the
 * percentiles of latencyMs come from the HDR histogram below.
 */
export interface OpenLoopFigures {
  /** Offered rate, requests per second. */
  rateRps: number;
  /** "uniform": one request every 1/rate s; "poisson": exponential gaps of mean 1/rate s from `seed`. */
  arrivals: Arrivals;
  /** Seed of the schedule's generator (recorded for uniform too, where it is unused): the same seed, the same schedule. */
  seed: number;
  /** Requests allowed in flight at once; a request due beyond it is not sent and counts as error kind `inflight`. */
  maxInflight: number;
  /** Requests the schedule called for in the whole run, sent or not. */
  requestsScheduled: number;
  /**
   * The first requests, scheduled at a rate climbing from a tenth of rateRps to all of it so that the client's
   * own warm-up builds no backlog; as many as the trim at the start, so none of them is kept.
   */
  rampRequests: number;
  /** Kept requests sent per second of actual start times, first to last kept: the rate the client held. */
  sentRps: number;
  /** Most requests in flight at once. */
  peakInflight: number;
  /**
   * The client's lag per kept request, actual start minus scheduled start, ms: mean, max, and percentiles keyed
   * "50" .. "99.9", "100" from an HDR histogram (1 µs resolution, 3 significant digits).
   */
  lagMs: { mean: number; max: number; percentiles: Record<string, number> };
  /** The lag p99 above which the verdict is client-bound, ms: the larger of 1 ms and a tenth of the latency p99. */
  lagBoundMs: number;
  /**
   * HDR histogram of the kept served requests' latency from scheduled start, in microseconds, 3 significant
   * digits, as hdr-histogram-js's encodeIntoCompressedBase64 (decode it to merge repeats or read any percentile).
   */
  latencyHistogram: string;
}
