// The stop rules, one place for every experiment that sweeps a server upward (loads, rates): a server whose mean
// latency passed the cap or whose errors passed their share is not pushed further, in this round or any later one;
// one that failed twice in a row is retired.
import type { LoadResult } from '../load/types.js';
import type { Plan } from '../results/schema.js';

/** What the stop rules read of a measured point. */
export interface Judged {
  status: 'ok' | 'failed';
  result?: LoadResult;
  /** Set on the last point a stop rule kept the server from going past. */
  stopped?: string;
  /** Set when a stop rule retired the server from later rounds too. */
  retired?: true;
}

/** Why a server is not pushed past this point (`at`: "load 100", "900 requests/s"), or undefined. */
export function stopReason(point: Judged, plan: Plan, failuresInARow: number, at: string): string | undefined {
  if (point.status === 'failed') return failuresInARow >= 2 ? `${failuresInARow} failed points in a row` : undefined;
  const r = point.result!;
  if (r.latencyMs.mean !== null && r.latencyMs.mean > plan.latencyCapMs) {
    return `mean latency ${r.latencyMs.mean.toFixed(0)} ms passed the cap of ${plan.latencyCapMs} ms at ${at}`;
  }
  const share = r.errors.total / Math.max(1, r.requestsCompleted);
  if (share > plan.errorShareCap) {
    return `errors were ${(share * 100).toFixed(1)}% of requests, past the cap of ${(plan.errorShareCap * 100).toFixed(1)}% at ${at}`;
  }
  return undefined;
}

/** Applies the stop rules to a point: records why on it (`stopped`) and returns it for the engine. */
export function stopPoint(point: Judged, plan: Plan, failuresInARow: number, at: string): { stop?: string } {
  const stop = stopReason(point, plan, failuresInARow, at);
  if (stop === undefined) return {};
  point.stopped = stop;
  return { stop };
}

/**
 * A server too slow at its lowest load for a point to hold two waves of it (a V8 isolate or a Node process per
 * connection under a quarter core: 10 requests in 3 to 8 s at l=10) measures no closed loop there, nor at any higher
 * load, and a later round would only repeat that: it is retired from this round and every later one. A default run
 * spent over a minute on such servers for nothing a fit could use.
 */
export function retireTooSlow(point: Judged, at: string): { stop: string } {
  const stop =
    `too slow at its lowest load (${at}) for a point of this length to hold two waves, so it is not measured at higher ` +
    'loads nor in later rounds; longer points (--duration) would measure it';
  point.stopped = stop;
  point.retired = true;
  return { stop };
}

/**
 * The highest step a stopped point leaves its server: its own step when its mean latency passed the cap (later
 * rounds repeat the steps up to it: its latency still belongs to the curve); just below it when it served nothing
 * (it holds no latency to repeat); none (-1) when failures or slowness retired it, so that it is not started again.
 */
export function retiredAbove(point: Judged, step: number): number {
  if (point.status === 'failed' || point.retired) return -1;
  return point.result && point.result.requests === 0 ? step - 1e-9 : step;
}

/** The highest step `server` may still be measured at, after the stop rules of the points stored so far. */
export function stepCap<P extends Judged & { server: string }>(points: readonly P[], server: string, stepOf: (p: P) => number): number {
  return points.reduce((a, p) => (p.server === server && p.stopped ? Math.min(a, retiredAbove(p, stepOf(p))) : a), Infinity);
}
