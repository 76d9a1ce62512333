// `eventbench run --open-loop`: after the closed-loop sweep, each server is measured again by the open loop
// (`eventbench load --rate`) at rates that are FRACTIONS OF ITS OWN CLOSED-LOOP CAPACITY measured in the same run
// (its highest throughput over the sweep). Servers of very different speed then share one x axis (0.1 .. 1.2 of
// what each can do), the curve of each bends where its queue starts to build, and a rate past capacity (1.1, 1.2)
// shows what overload does to latency when the client does not politely wait. It runs on the same sweep engine as
// the closed loop (src/sweep/engine.ts), with the same host set-up, rounds and seeded server order: each server
// started fresh per round, warmed to steady state, then measured at each rate in ascending order; every point is
// appended to open-loop.jsonl in the run folder as it is measured.
import { UsageError } from '../core/errors.js';
import type { ServerModel } from '../servers/types.js';
import { OPEN_POINT_SCHEMA, type OpenPoint, type Plan, type Point } from '../results/schema.js';
import type { Experiment, Sweep } from '../sweep/engine.js';
import { planSweeps } from '../sweep/plan.js';
import { closedPriors, type ClockPriors } from '../sweep/clock.js';
import { resultFlags } from '../results/verdict.js';
import { stepCap, stopPoint } from '../sweep/stop.js';
import { appendOpenPoint } from '../results/store.js';
import { SESSION_WARMUP_CONCURRENCY, failedPoint, measurePoint, serverSpec, sessionWarmUp, type TrialSettings } from '../sweep/session.js';
import type { LoadArgs } from '../load/options.js';
import { serverOf, throttledHost } from './closed-loop.js';

/** Offered rates as fractions of each server's closed-loop capacity: light load, the knee's region, and past it. */
export const DEFAULT_RATE_FRACTIONS = [0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.2];
/**
 * Seconds of an open-loop point, at least: a fresh client process starts its schedule before its own code is warm,
 * and in a 0.5 s point that shows as lag p99 of 3 to 5 ms (10% of the requests late); over 2 s, with the first tenth
 * trimmed, lag p99 is 0.3 to 0.4 ms at 500 requests/s on this VM.
 */
export const OPEN_MIN_DURATION_S = 2;

/** Checks the --rates list: fractions of capacity. */
export function checkRateFractions(fractions: number[]): number[] {
  for (const f of fractions) {
    if (!(f >= 0.01 && f <= 10)) {
      const limit = "expected fractions of each server's closed-loop capacity from 0.01 to 10";
      throw new UsageError('--rates', f, limit, 'e.g. --rates 0.1,0.5,0.9,1.2');
    }
  }
  return [...new Set(fractions)].sort((a, b) => a - b);
}

/** A server's closed-loop capacity: the highest throughput of its measured points, or undefined if none. */
export function capacityOf(points: readonly Point[], server: string): number | undefined {
  const rates = points
    .filter((p) => p.server === server && p.status === 'ok' && p.result && p.result.throughputRps > 0)
    .map((p) => p.result!.throughputRps);
  return rates.length ? Math.max(...rates) : undefined;
}

/** The `eventbench load` flags of one open-loop point. */
export function openLoadFlags(rateRps: number, durationS: number, requests: number | undefined) {
  return (a: LoadArgs): string[] => {
    // The first tenth of the schedule ramps up (src/load/open-loop.ts): it is trimmed.
    const trim = Math.round((rateRps * durationS) / 10);
    const flags = ['--rate', String(rateRps), '-t', String(durationS), '--json', '--timeout', String(a.timeoutS), '--trim', String(trim)];
    if (requests !== undefined) flags.push('-n', String(requests));
    if (a.transport !== undefined) flags.push('--transport', a.transport);
    return flags;
  };
}

export interface OpenInput {
  dir: string;
  plan: Plan;
  rateFractions: number[];
  minDurationS: number;
  /** The run's closed-loop points: each server's capacity. */
  closed: readonly Point[];
  /** The run's open-loop points so far; measured points are appended. */
  points: OpenPoint[];
  models: readonly ServerModel[];
  trial?: TrialSettings;
  warn: (text: string) => void;
}

const key = (server: string, fraction: number, round: number) => `${server}\u0000${fraction}\u0000${round}`;

/** The open loop's sweeps with something left to measure for `servers` that have a capacity, each with its rates not measured. */
export function openSweepsLeft(i: Pick<OpenInput, 'plan' | 'rateFractions' | 'closed' | 'points'>, servers: readonly string[]): Sweep[] {
  const done = new Set(i.points.map((p) => key(p.server, p.rateFraction, p.round)));
  return planSweeps(i.plan, i.rateFractions)
    .filter((s) => servers.includes(s.server) && capacityOf(i.closed, s.server) !== undefined)
    .map((s) => ({ ...s, steps: s.steps.filter((f) => !done.has(key(s.server, f, s.round))) }))
    .filter((s) => s.steps.length > 0);
}

/** A point of the trial code as a line of open-loop.jsonl, with the flags of verdict.ts that apply to an open loop. */
function toOpenPoint(p: Point, rateFraction: number, capacityRps: number, rateRps: number, plan: Plan, throttled: boolean): OpenPoint {
  const { schema: _schema, load: _load, flags: _flags, ...rest } = p;
  const flags = p.result ? { flags: resultFlags(p.result, p.metrics, undefined, plan, throttled) } : {};
  return { ...rest, schema: OPEN_POINT_SCHEMA, rateFraction, capacityRps, rateRps, ...flags };
}

/** The open loop's prices before any of its points: a session as the closed sweep's, a point its length and a second. */
export function openPriors(plan: Plan, minDurationS: number): ClockPriors {
  return { ...closedPriors(plan), pointS: Math.max(plan.durationS ?? 0, minDurationS) + 1 };
}

export function openLoop(i: OpenInput): Experiment<OpenPoint> {
  const { plan } = i;
  const trial = i.trial ?? {};
  const durationS = Math.max(plan.durationS ?? 0, i.minDurationS);
  const capacity = (server: string) => capacityOf(i.closed, server)!;
  const rateOf = (server: string, f: number) => Math.max(1, Math.round(f * capacity(server)));
  let throttled = false;
  return {
    phase: 'open',
    host: throttledHost(plan),
    priors: openPriors(plan, i.minDurationS),
    setUp: (host) => {
      throttled = host.throttle.mechanism !== 'none';
    },
    server: (name) => serverOf(i.models, name),
    serverSpec: (server) => serverSpec(server, plan, trial),
    warmUp: () => (trial.warmupRequests === undefined ? sessionWarmUp(plan, SESSION_WARMUP_CONCURRENCY) : undefined),
    async measure(c) {
      const rateRps = rateOf(c.sweep.server, c.step);
      // Each point is settled first as a closed-loop point at l=1 is: a short window that lets the heap settle.
      const p = await measurePoint(c.session, {
        plan,
        load: 1,
        round: c.sweep.round,
        durationS,
        loadFlags: openLoadFlags(rateRps, durationS, plan.requests),
        onWarning: i.warn,
        ...(trial.warmupRequests !== undefined ? { warmupRequests: trial.warmupRequests } : {}),
        ...(c.signal ? { signal: c.signal } : {}),
      });
      if (p === 'aborted') return p;
      if (c.sessionWarmup && p.status === 'ok') p.warmup = { session: c.sessionWarmup, ...p.warmup };
      return toOpenPoint(p, c.step, capacity(c.sweep.server), rateRps, plan, throttled);
    },
    failedStart(server, sweep, step, reason) {
      const point = failedPoint(server, 1, sweep.round, reason);
      return toOpenPoint(point, step, capacity(server.name), rateOf(server.name, step), plan, throttled);
    },
    isFailed: (p) => p.status === 'failed',
    retried: (p, why) => {
      p.retried = why;
    },
    judge: (p, _sweep, _step, failuresInARow) => stopPoint(p, plan, failuresInARow, `${p.rateRps} requests/s`),
    keep(p) {
      appendOpenPoint(i.dir, p);
      i.points.push(p);
      return { phase: 'open', point: p };
    },
    stepCap: (server) => stepCap(i.points, server, (p) => p.rateFraction),
  };
}
