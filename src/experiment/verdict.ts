// Whether one measured point can be trusted, in one place. The load generator's verdict (client-bound, not at
// steady state, accept queue overflowing as seen from the client) and what the runner saw of the server (its CPU
// share against the throttle's target, the kernel's accept-queue counters) become one list of flags on the point.
// A flagged point is shown but left out of every fit, and the report says why.
import type { Plan, Point } from './schema.js';

export type PointFlagKind = 'client-bound' | 'not-steady' | 'backlog-bound' | 'cpu-share';
export const POINT_FLAG_KINDS: readonly PointFlagKind[] = ['client-bound', 'not-steady', 'backlog-bound', 'cpu-share'];

export interface PointFlag {
  kind: PointFlagKind;
  /** One sentence for the reader, with the measured figures. */
  why: string;
}

/**
 * The flags of one point. The runner stores them on the point as it is measured (`point.flags`); the report
 * recomputes them for points stored before flags existed.
 */
export function pointFlags(point: Point, _plan: Plan): PointFlag[] {
  const flags: PointFlag[] = [];
  const r = point.result;
  if (point.status !== 'ok' || !r) return flags;
  if (r.verdict.clientBound) flags.push({ kind: 'client-bound', why: r.verdict.reasons.join('; ') });
  return flags;
}

/** The flags stored on a point, or recomputed for a point of an older run. */
export const flagsOf = (point: Point, plan: Plan): PointFlag[] => point.flags ?? pointFlags(point, plan);
