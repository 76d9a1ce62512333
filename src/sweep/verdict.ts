// Whether one measured point can be trusted, in one place. The load generator's verdict (client-bound, not at
// steady state, accept queue overflowing as seen from the client) and what the runner saw of the server (its CPU
// share against the throttle's target, the kernel's accept-queue counters) become one list of flags on the point.
// A flagged point is shown but left out of every fit, and the report says why.
import type { Plan, Point } from './schema.js';
import { notSteadyReason } from '../load/steady.js';
import { MEASURED_LOAD_FLOOR } from '../load/types.js';
import { somaxconnFix } from '../core/backlog.js';

export type PointFlagKind = 'too-slow' | 'client-bound' | 'not-steady' | 'backlog-bound' | 'cpu-share' | 'unthrottled';
export const POINT_FLAG_KINDS: readonly PointFlagKind[] = [
  'too-slow', 'client-bound', 'not-steady', 'backlog-bound', 'cpu-share', 'unthrottled',
];
/**
 * Flags that say what the whole server is, not that a point went wrong: the point stays in its own server's fit,
 * but the server is compared with no other (a server eventbench did not start ran on cores and at a speed of its own).
 */
export const CAVEAT_FLAGS: readonly PointFlagKind[] = ['unthrottled'];

/**
 * A point that served fewer than this many waves of `load` requests measured no closed loop at all: its first
 * clients were still being served when it ended (a V8 isolate or a Node process per connection at a quarter core:
 * 10 requests in 3 s), so its window is empty after the trim and its measured load reads low for that reason.
 */
export const MIN_WAVES = 2;

export interface PointFlag {
  kind: PointFlagKind;
  /** One sentence for the reader, with the measured figures. */
  why: string;
}

/**
 * A throttled server's CPU share over its load may stray this far from the target before its point is flagged:
 * above, the kernel did not enforce the quota (periods under its 5 ms bandwidth slice); below, at a load that
 * should saturate it, the server waited on something other than its CPU.
 */
export const CPU_SHARE_TOLERANCE = 0.2;
/** From this load on, a closed loop keeps a quarter-core server busy: its share should reach the target. */
export const SATURATING_LOAD = 50;
/**
 * At a saturating load, a server kept busy runs out of its quota in most periods: 0.72 to 0.98 of them over every
 * point of a default run but one (h2o, 0.66). Points of the same servers at 0.21 to 0.58 were 20 to 45% slower
 * than their other rounds (bench:repro), their CPU share still within 20% of the target: the server waited, part
 * of the point, on something other than its CPU. Under this fraction of throttled periods the point is flagged
 * cpu-share too.
 */
export const THROTTLED_FLOOR = 0.7;

/**
 * The flags of one point. The runner stores them on the point as it is measured (`point.flags`); the report
 * recomputes them for points stored before flags existed. `throttled`: whether the server ran under a quota.
 */
export function pointFlags(point: Point, plan: Plan, throttled = true): PointFlag[] {
  const flags: PointFlag[] = [];
  const r = point.result;
  if (point.status !== 'ok' || !r) return flags;
  if (point.url) {
    const quota = plan.serverCpuShare > 0 ? `the ${plan.serverCpuShare}-core quota` : 'the server cores';
    const why = `a server eventbench did not start (--url ${point.url}): nothing pinned it, held it to ${quota} or sampled its CPU and `
      + "memory, so its slope is not comparable with the others'";
    flags.push({ kind: 'unthrottled', why });
  }
  const steadyReason = r.steadiness && !r.steadiness.steady ? notSteadyReason(r.steadiness) : undefined;
  const tooSlow = r.requestsCompleted - r.errors.total < MIN_WAVES * point.load && r.errors.total < r.requestsCompleted;
  if (tooSlow) {
    flags.push({ kind: 'too-slow', why: `only ${r.requestsCompleted - r.errors.total} responses in ${r.totalDurationS.toFixed(1)} s at l=${point.load}, fewer than ${MIN_WAVES} waves of ${point.load}: the point ended before the server had served its first clients twice, so it measures no closed loop (a longer point, --duration, would)` });
  }
  // The load generator's verdict says it; a result from before that verdict existed is judged by the same rule.
  const lowLoad = r.measuredLoad < MEASURED_LOAD_FLOOR * point.load && !tooSlow;
  if ((r.verdict.clientBound && !tooSlow) || lowLoad) {
    const reasons = r.verdict.reasons.filter((x) => x !== steadyReason && !x.startsWith('backlog-bound'));
    flags.push({ kind: 'client-bound', why: reasons.length > 0 ? reasons.join('; ') : `measured load ${r.measuredLoad.toFixed(1)} is below ${MEASURED_LOAD_FLOOR * 100}% of the offered ${point.load}` });
  }
  if (steadyReason) flags.push({ kind: 'not-steady', why: steadyReason });
  // The accept queue overflowed: seen by the client (connects that waited for a SYN retry) or on the server's port.
  const q = point.metrics?.acceptQueue;
  const full = q !== undefined && q.backlog > 0 && q.peak >= q.backlog;
  if (r.verdict.backlogBound || full) {
    const why = r.verdict.reasons.find((x) => x.startsWith('backlog-bound'))
      ?? `backlog-bound: the accept queue on the server's port was seen full (${q!.peak} of a backlog of ${q!.backlog}), so SYNs were dropped; fix: raise the server's listen backlog (--backlog) and ${somaxconnFix(point.load)}`;
    flags.push({ kind: 'backlog-bound', why });
  }
  const share = point.metrics?.loadCpuShare;
  const periods = point.metrics?.quotaPeriods;
  const target = plan.serverCpuShare;
  if (throttled && target > 0 && share !== undefined) {
    if (share > (1 + CPU_SHARE_TOLERANCE) * target) {
      flags.push({ kind: 'cpu-share', why: `the server used ${share.toFixed(2)} of a core under a ${target}-core quota: the kernel did not enforce it (a ${plan.throttlePeriodMs ?? 100} ms period; see \`eventbench doctor\`)` });
    } else if (point.load >= SATURATING_LOAD && !r.verdict.clientBound) {
      // A closed loop at this load keeps the server busy: it should use its whole quota, in most periods.
      if (share < (1 - CPU_SHARE_TOLERANCE) * target) {
        flags.push({ kind: 'cpu-share', why: `the server used only ${share.toFixed(2)} of a core under a ${target}-core quota at l=${point.load}: it was not CPU-bound, so this point measures something else (the machine, a lock, the client)` });
      } else if (periods && periods.total >= 20 && periods.throttled / periods.total < THROTTLED_FLOOR) {
        flags.push({ kind: 'cpu-share', why: `the server ran out of its quota in only ${(100 * periods.throttled / periods.total).toFixed(0)}% of its ${periods.total} periods at l=${point.load} (under ${THROTTLED_FLOOR * 100}%): it waited on something other than its CPU for part of the point (the machine, a lock, the client)` });
      }
    }
  }
  return flags;
}

/** The flags stored on a point, or recomputed for a point of an older run. */
export const flagsOf = (point: Point, plan: Plan): PointFlag[] => point.flags ?? pointFlags(point, plan, false);
