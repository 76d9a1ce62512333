// Whether one measured point can be trusted, in one place: one table, one entry per flag, `{kind, label, rule,
// caption}`. The load generator's verdict (client-bound, not at steady state, accept queue overflowing as seen from
// the client) and what the runner saw of the server (its CPU share against the throttle's target, its accept queue)
// become one list of flags on the point. The flag's type, the figures' caption, the report's explanation and the
// manual's list (docs/running.md) all come from this table. A flagged point is shown but left out of every fit, and the report says why.
import type { ServerMetrics } from '../host/hosts.js';

/** What the rules read of a run's plan (a Plan, src/results/schema.ts, is one). */
export interface FlagPlan {
  /** The server's CPU quota, cores (0: unthrottled), and its period, ms (absent in older runs: 100). */
  serverCpuShare: number;
  throttlePeriodMs?: number;
}

/** What the rules read of a closed-loop point (a Point, src/results/schema.ts, is one). */
export interface FlagPoint {
  status: 'ok' | 'failed';
  load: number;
  result?: LoadResult;
  metrics?: ServerMetrics;
  url?: string;
  flags?: PointFlag[];
}
import type { LoadResult } from '../load/types.js';
import { notSteadyReason } from '../load/steady.js';
import { MEASURED_LOAD_FLOOR } from '../load/types.js';
import { somaxconnFix } from '../core/backlog.js';
import { CPU_SHARE_TOLERANCE } from '../host/throttle.js';
import { START_SPREAD_SHARE } from '../load/merge.js';

/**
 * A point that served fewer than this many waves of `load` requests measured no closed loop at all: its first
 * clients were still being served when it ended (a V8 isolate or a Node process per connection at a quarter core:
 * 10 requests in 3 s), so its window is empty after the trim and its measured load reads low for that reason.
 */
export const MIN_WAVES = 2;

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

/** What a rule sees of one measured point: the client's result, the server's metrics, and the load (closed loop only). */
export interface FlagContext {
  r: LoadResult;
  metrics?: ServerMetrics;
  /** The closed loop's offered load; undefined for an open-loop point (requests on a schedule, no load). */
  load?: number;
  plan: FlagPlan;
  /** Whether the server ran under a quota. */
  throttled: boolean;
  /** The not-steady reason, and whether the point was too slow: other rules defer to them. */
  steadyReason?: string;
  tooSlow: boolean;
  /** Where a server eventbench did not start answered (`run --url`); undefined for one it started. */
  url?: string;
}

const unthrottled = (c: FlagContext): string | undefined => {
  if (c.url === undefined) return undefined;
  const quota = c.plan.serverCpuShare > 0 ? `the ${c.plan.serverCpuShare}-core quota` : 'the server cores';
  return (
    `a server eventbench did not start (--url ${c.url}): nothing pinned it, held it to ${quota} or sampled its CPU and ` +
    "memory, so its slope is not comparable with the others'"
  );
};

const tooSlow = (c: FlagContext): string | undefined => {
  if (c.load === undefined || !c.tooSlow) return undefined;
  return (
    `only ${c.r.requestsCompleted - c.r.errors.total} responses in ${c.r.totalDurationS.toFixed(1)} s at l=${c.load}, ` +
    `fewer than ${MIN_WAVES} waves of ${c.load}: the point ended before the server had served its first clients twice, ` +
    'so it measures no closed loop (a longer point, --duration, would)'
  );
};

const clientBound = (c: FlagContext): string | undefined => {
  // The load generator's verdict says it; a closed-loop result from before that verdict existed is judged by its rule.
  const lowLoad = c.load !== undefined && c.r.measuredLoad < MEASURED_LOAD_FLOOR * c.load && !c.tooSlow;
  if (!((c.r.verdict.clientBound && !c.tooSlow) || lowLoad)) return undefined;
  const own = (x: string) => x !== c.steadyReason && !x.startsWith('backlog-bound') && !x.startsWith(START_SPREAD);
  const reasons = c.r.verdict.reasons.filter(own);
  if (reasons.length > 0) return reasons.join('; ');
  return `measured load ${c.r.measuredLoad.toFixed(1)} is below ${MEASURED_LOAD_FLOOR * 100}% of the offered ${c.load}`;
};

const backlogBound = (c: FlagContext): string | undefined => {
  // The accept queue overflowed: seen by the client (connects that waited for a SYN retry) or on the server's port.
  const q = c.metrics?.acceptQueue;
  const full = q !== undefined && q.backlog > 0 && q.peak >= q.backlog;
  if (!c.r.verdict.backlogBound && !full) return undefined;
  return (
    c.r.verdict.reasons.find((x) => x.startsWith('backlog-bound')) ??
    `backlog-bound: the accept queue on the server's port was seen full (${q!.peak} of a backlog of ${q!.backlog}), so SYNs were ` +
      `dropped; fix: raise the server's listen backlog (--backlog) and ${somaxconnFix(c.load ?? q!.backlog)}`
  );
};

/** How the merge of several agents (src/load/merge.ts startSpread) begins its reason. */
const START_SPREAD = 'start spread:';

const startSpread = (c: FlagContext): string | undefined => {
  if (!c.r.verdict.startSpread) return undefined;
  const found = c.r.verdict.reasons.find((x) => x.startsWith(START_SPREAD));
  return found ?? `${START_SPREAD} over ${START_SPREAD_SHARE * 100}% of the kept window`;
};

const cpuShare = (c: FlagContext): string | undefined => {
  const share = c.metrics?.loadCpuShare;
  const periods = c.metrics?.quotaPeriods;
  const target = c.plan.serverCpuShare;
  if (!c.throttled || target <= 0 || share === undefined) return undefined;
  if (share > (1 + CPU_SHARE_TOLERANCE) * target) {
    const period = c.plan.throttlePeriodMs ?? 100;
    return (
      `the server used ${share.toFixed(2)} of a core under a ${target}-core quota: the kernel did not enforce it ` +
      `(a ${period} ms period; see \`eventbench doctor\`)`
    );
  }
  // A closed loop at a saturating load keeps the server busy: it should use its whole quota, in most periods. An
  // open loop below capacity need not.
  if (c.load === undefined || c.load < SATURATING_LOAD || c.r.verdict.clientBound) return undefined;
  if (share < (1 - CPU_SHARE_TOLERANCE) * target) {
    return (
      `the server used only ${share.toFixed(2)} of a core under a ${target}-core quota at l=${c.load}: it was not CPU-bound, ` +
      'so this point measures something else (the machine, a lock, the client)'
    );
  }
  if (periods && periods.total >= 20 && periods.throttled / periods.total < THROTTLED_FLOOR) {
    const pct = ((100 * periods.throttled) / periods.total).toFixed(0);
    return (
      `the server ran out of its quota in only ${pct}% of its ${periods.total} periods at l=${c.load} ` +
      `(under ${THROTTLED_FLOOR * 100}%): it waited on something other than its CPU for part of the point ` +
      '(the machine, a lock, the client)'
    );
  }
  return undefined;
};

/** Every flag, in the order a point's flags are listed. docs/running.md's list of flags is this table's captions. */
export const POINT_FLAGS = [
  {
    kind: 'too-slow',
    label: 'too slow',
    rule: tooSlow,
    caption:
      `fewer than ${MIN_WAVES} waves of l responses in the point (a thread or a process per connection at a quarter core: ` +
      '10 requests in 3 to 8 s at l=10): the point ended before the server had served its first clients twice, so it measures ' +
      'no closed loop; --duration lengthens points',
  },
  {
    kind: 'client-bound',
    label: 'client-bound',
    rule: clientBound,
    caption:
      `the client, not the server, set the pace: in the closed loop l_m under ${MEASURED_LOAD_FLOOR * 100}% of l or the client ` +
      "over 90% of its core; in the open loop the client's lag p99 past its bound (it started requests late)",
  },
  {
    kind: 'not-steady',
    label: 'not steady',
    rule: (c: FlagContext) => c.steadyReason,
    caption:
      'the first and last thirds of the kept window differ by over 10% of the mean and by more than their own scatter ' +
      "(Welch's t): the server was still warming up or drifting",
  },
  {
    kind: 'backlog-bound',
    label: 'backlog-bound',
    rule: backlogBound,
    caption:
      "connects waited for a resent SYN, or the server's own accept queue (sampled every 100 ms with ss on its port) was " +
      'seen at its backlog: the kernel dropped connections; raise --backlog and net.core.somaxconn. The host-wide ' +
      'ListenOverflows counter, which any program moves, is reported but decides nothing',
  },
  {
    kind: 'cpu-share',
    label: 'off its CPU quota',
    rule: cpuShare,
    caption:
      `the server's CPU share over the load was more than ${CPU_SHARE_TOLERANCE * 100}% above its quota (the kernel did not ` +
      `enforce it), or, in the closed loop at a load of ${SATURATING_LOAD} or more, more than ${CPU_SHARE_TOLERANCE * 100}% under it ` +
      `or out of quota in under ${THROTTLED_FLOOR * 100}% of the periods (it waited on something other than its CPU: such points ` +
      "were 20 to 45% slower than the same server's other rounds)",
  },
  {
    kind: 'unthrottled',
    label: 'not started by eventbench',
    rule: unthrottled,
    caption:
      'a server eventbench did not start (`run --url`): nothing pinned it, held it to the quota or sampled it. Its points stay ' +
      'in its own fit, but it is compared with no other server and kept out of the paper table',
  },
  {
    kind: 'start-spread',
    label: 'start spread',
    rule: startSpread,
    caption:
      `a point split over client hosts (run --client-hosts) whose agents' first requests may have started further apart, ` +
      `clock bounds included, than ${START_SPREAD_SHARE * 100}% of its kept window: its agents did not load the server together; ` +
      'the reason names the host furthest from the scheduled instant',
  },
] as const;

export type PointFlagKind = (typeof POINT_FLAGS)[number]['kind'];
export const POINT_FLAG_KINDS: readonly PointFlagKind[] = POINT_FLAGS.map((f) => f.kind);
/**
 * Flags that say what the whole server is, not that a point went wrong: the point stays in its own server's fit,
 * but the server is compared with no other (a server eventbench did not start ran on cores and at a speed of its own).
 */
export const CAVEAT_FLAGS: readonly PointFlagKind[] = ['unthrottled'];

export interface PointFlag {
  kind: PointFlagKind;
  /** One sentence for the reader, with the measured figures. */
  why: string;
}

/** The flags of one measured result: every rule of the table that applies. */
export function resultFlags(
  r: LoadResult,
  metrics: ServerMetrics | undefined,
  load: number | undefined,
  plan: FlagPlan,
  throttled: boolean,
  url?: string,
): PointFlag[] {
  const steadyReason = r.steadiness && !r.steadiness.steady ? notSteadyReason(r.steadiness) : undefined;
  const slow = load !== undefined && r.requestsCompleted - r.errors.total < MIN_WAVES * load && r.errors.total < r.requestsCompleted;
  const c: FlagContext = {
    r,
    plan,
    throttled,
    tooSlow: slow,
    ...(metrics ? { metrics } : {}),
    ...(load !== undefined ? { load } : {}),
    ...(steadyReason ? { steadyReason } : {}),
    ...(url !== undefined ? { url } : {}),
  };
  const flags: PointFlag[] = [];
  for (const f of POINT_FLAGS) {
    const why = f.rule(c);
    if (why !== undefined) flags.push({ kind: f.kind, why });
  }
  return flags;
}

/**
 * The flags of one closed-loop point. The runner stores them on the point as it is measured (`point.flags`); the
 * report recomputes them for points stored before flags existed. `throttled`: whether the server ran under a quota.
 */
export function pointFlags(point: FlagPoint, plan: FlagPlan, throttled = true): PointFlag[] {
  if (point.status !== 'ok' || !point.result) return [];
  return resultFlags(point.result, point.metrics, point.load, plan, throttled, point.url);
}

/** The flags stored on a point, or recomputed for a point of an older run. */
export const flagsOf = (point: FlagPoint, plan: FlagPlan): PointFlag[] => point.flags ?? pointFlags(point, plan, false);

/** "too slow, client-bound, ...": the labels of every flag, for a caption. */
export const flagLabels = (): string => POINT_FLAGS.map((f) => f.label).join(', ');
