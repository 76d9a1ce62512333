// One point on a running server: settle it at the point's load, then measure it with one run of the load client
// while the server's host samples its process tree. The server itself is started, warmed and stopped by the sweep
// engine (./engine.ts) through the hosts of src/host/hosts.ts. Whatever goes wrong becomes a failed Point: a
// failure is data.
import type { Family, Plan, Point, ServerMetrics } from '../results/schema.js';
import { POINT_SCHEMA } from '../results/schema.js';
import type { Hosts, ServerHost, ServerSpec, StartedServer } from '../host/hosts.js';
import type { ServerModel } from '../servers/types.js';
import { DEFAULT_WARMUP, type Warmup, type WarmupPolicy } from '../load/warmup.js';
import { closedLoadFlags, type LoadArgs } from '../load/options.js';

/** Who a point is of: a server's name and what it is. */
export interface TrialServer {
  name: string;
  family: Family;
  paperRow?: string;
  /** A user's server: its label, carried into its points for the report. */
  label?: string;
  /** Flags `eventbench serve NAME` needs to find it (a user's server: --servers-file FILE or --server SPEC). */
  serveArgs?: string[];
  /** A server eventbench did not start (`run --url`): measured where it answers, never started, throttled or sampled. */
  url?: string;
}

/** What a trial needs of a model: its name, family, paper row, label, and how `serve` finds it. */
export function trialServer(model: ServerModel): TrialServer {
  return {
    name: model.name,
    family: model.family,
    ...(model.paperRow ? { paperRow: model.paperRow } : {}),
    ...(model.label ? { label: model.label } : {}),
    ...(model.serveArgs ? { serveArgs: model.serveArgs } : {}),
    ...(model.url ? { url: model.url } : {}),
  };
}

/** A server started for a sweep, on its host, measured from the client's. */
export interface Session {
  server: TrialServer;
  hosts: Hosts;
  started: StartedServer;
}

/** How tests and benches change the way servers are started and warmed; a run leaves every field unset. */
export interface TrialSettings {
  /** argv starting the server instead of `eventbench serve NAME ...` (tests start their own tiny servers). */
  serverArgv?: (server: TrialServer, plan: Plan) => string[];
  /** Requests sent before each point instead of the plan's warm-ups to steady state (0: none). */
  warmupRequests?: number;
  /** How long a server may take to print its line (native servers compile on first use), ms; default 60 s. */
  readyTimeoutMs?: number;
}

/** How a server of a plan is started: `serve NAME --port 0 --backlog B --page-bytes P` and `extraFlags`. */
export function serverSpec(server: TrialServer, plan: Plan, trial: TrialSettings = {}, extraFlags: string[] = []): ServerSpec {
  // A user's server: the flags that let `serve` find it (--servers-file FILE or --server SPEC).
  const serveFlags = [
    '--port',
    '0',
    '--backlog',
    String(plan.backlog),
    '--page-bytes',
    String(plan.pageBytes),
    ...extraFlags,
    ...(server.serveArgs ?? []),
  ];
  const argv = trial.serverArgv?.(server, plan);
  const readyTimeoutMs = trial.readyTimeoutMs ?? 60_000;
  return {
    name: server.name,
    family: server.family,
    serveFlags,
    ...(argv ? { argv } : {}),
    ...(server.url ? { url: server.url } : {}),
    backlog: plan.backlog,
    readyTimeoutMs,
  };
}

/**
 * A fresh server is first warmed at its first load, at most this many clients: V8 compiles the same code at any
 * load, and a server that takes seconds per request (a process per connection) is not flooded with requests it
 * would still be serving when its first point starts.
 */
export const SESSION_WARMUP_CONCURRENCY = 50;

/** A freshly started server's first warm-up: to steady state, at `firstLoad` clients at most SESSION_WARMUP_CONCURRENCY. */
export function sessionWarmUp(plan: Plan, firstLoad: number): { concurrency: number; policy: WarmupPolicy; timeoutS: number } {
  const policy = (plan.warmup ?? DEFAULT_WARMUP).session;
  return { concurrency: Math.min(SESSION_WARMUP_CONCURRENCY, firstLoad), policy, timeoutS: timeoutSOf(plan) };
}

/** What every point of `server` at `load` records, whatever its outcome. */
export function pointBase(server: TrialServer, load: number, round: number, startedAt = new Date().toISOString()) {
  const row = server.paperRow ? { paperRow: server.paperRow } : {};
  const user = { ...(server.label ? { label: server.label } : {}), ...(server.url ? { url: server.url } : {}) };
  return { schema: POINT_SCHEMA, server: server.name, family: server.family, ...row, ...user, load, round, startedAt } as const;
}

/** The one builder of a failed point: a failure is data, with why. */
export function failedPoint(server: TrialServer, load: number, round: number, reason: string, startedAt?: string): Point {
  return { ...pointBase(server, load, round, startedAt), status: 'failed', reason };
}

/** A client gets a request's timeout (the latency cap) and this much more than its point's length before it is killed. */
const CLIENT_GRACE_S = 15;

export const timeoutSOf = (plan: Plan): number => Math.max(1, plan.latencyCapMs / 1000);

export interface MeasureOptions {
  plan: Plan;
  load: number;
  round: number;
  /** This point's length, when lengthened (pointDurationS); plan.durationS otherwise. */
  durationS?: number;
  /**
   * Requests sent before the measurement instead of the plan's settle at this load (0: none). Tests and benches
   * that warm by their own rule set it; a run leaves it unset.
   */
  warmupRequests?: number;
  /** The client's flags (default closedLoadFlags): the open loop sends requests on a schedule instead. */
  loadFlags?: (a: LoadArgs) => string[];
  signal?: AbortSignal;
  /** Called with notes worth a warning. */
  onWarning?: (text: string) => void;
}

/** The settle at this load: the plan's policy, or a fixed count of requests when told one. */
function settlePolicy(o: MeasureOptions): WarmupPolicy {
  return o.warmupRequests !== undefined
    ? { windowS: 3600, agree: 1, tolerance: 1, minRequests: o.warmupRequests, maxRequests: o.warmupRequests, maxS: 120 }
    : (o.plan.warmup ?? DEFAULT_WARMUP).load;
}

/** Settles and measures one point on a running server. Resolves to the Point, or 'aborted' (nothing recorded). */
export async function measurePoint(s: Session, o: MeasureOptions): Promise<Point | 'aborted'> {
  const { plan, load } = o;
  const { server: host, client } = s.hosts;
  const { id, url } = s.started;
  const base = pointBase(s.server, load, o.round);
  const failed = (reason: string): Point => failedPoint(s.server, load, o.round, reason, base.startedAt);
  const timeoutS = timeoutSOf(plan);
  const dead = await host.exitReason(id, 'before the point');
  if (dead) return failed(dead);

  // The settle runs from the client's host (the runner's own process, pinned to the client cores): the server
  // settles at this load before it is measured; its first warm-up, when it was started, was the engine's.
  let warmup: Warmup | undefined;
  if (o.warmupRequests !== 0) {
    warmup = await client.warm({ url, concurrency: load, policy: settlePolicy(o), timeoutS, jit: true }, o.signal);
    if (o.signal?.aborted) return 'aborted';
    const gone = await host.exitReason(id, 'during the warm-up');
    if (gone) return failed(gone);
  }

  const durationS = o.durationS ?? plan.durationS;
  const trim = pointTrim(plan, load);
  const args: LoadArgs = {
    concurrency: load,
    requests: plan.requests,
    durationS,
    timeoutS,
    trim,
    engine: plan.engine,
    transport: plan.transport,
  };
  const limitS = (durationS ?? 600) + timeoutS + CLIENT_GRACE_S;
  // A server eventbench did not start (--url) has nothing to sample: its points record no metrics at all.
  const sampled = !s.started.external;
  if (sampled) await host.startSampling(id);
  const spec = { url, flags: (o.loadFlags ?? closedLoadFlags)(args), limitS, ...(o.loadFlags ? {} : { closed: args }) };
  const measured = await client.load(spec, o.signal);
  const r = measured.result;
  const span = r ? { fromMs: Date.parse(r.startedAt), toMs: Date.parse(r.startedAt) + r.totalDurationS * 1000 } : undefined;
  const { sample, warnings } = sampled ? await host.stopSampling(id, span) : { sample: undefined, warnings: [] };
  for (const w of warnings) o.onWarning?.(w);
  if (measured.aborted) return 'aborted';
  const gone = await exitedDuring(host, id, r?.stoppedEarly === 'server-gone');
  if (gone) return failed(gone);
  if (!r) return failed(measured.error ?? 'no result');
  const metrics: ServerMetrics | undefined = sample ? { ...sample, backlog: s.started.backlog } : undefined;
  return { ...base, status: 'ok', result: r, ...(metrics ? { metrics } : {}), ...(warmup ? { warmup: { load: warmup } } : {}) };
}

/**
 * Why the server exited during the measurement, if it did. A client that stopped because the server refused every
 * connection may see that before the runner sees the server's exit (the exit is an event still queued): then the
 * exit is waited for, at most EXIT_SEEN_MS, so that a crash is a failed point rather than one with refused requests.
 */
async function exitedDuring(host: ServerHost, id: string, refused: boolean): Promise<string | undefined> {
  const deadline = performance.now() + (refused ? EXIT_SEEN_MS : 0);
  for (;;) {
    const gone = await host.exitReason(id, 'during the measurement');
    if (gone || performance.now() >= deadline) return gone;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How long a server that refused every connection is given for its exit to be seen. */
const EXIT_SEEN_MS = 1000;

/** Trim of one point: the plan's trim, but never more than the load (the ramp of a closed loop is `load` requests). */
export function pointTrim(plan: Plan, load: number): number {
  return Math.min(plan.trim, load);
}
