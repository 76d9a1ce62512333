// How long the rest of a phase will take. A phase is a list of sweeps (one server, one round: start, warm up, then
// each step), and their costs differ tenfold (a TypeScript server warms for seconds, a native one for a moment;
// a process per connection takes seconds a point), so "time so far × points left / points done" is wrong for most
// of a run. Each part left is priced by what the same part cost before: the same server's earlier round when
// there is one; else the median over the servers of its family measured so far (the median, so that one slow
// server does not price all the others), else over all servers; else a prior from the plan.
import type { Plan } from '../results/schema.js';
import { mean, median } from '../core/numbers.js';

export interface SweepToPrice {
  server: string;
  /** typescript, native, production: servers of one family cost alike (a JIT warms up, C does not). */
  family?: string;
  /** Its steps left (loads, rates, connection levels). */
  steps: readonly number[];
  /** Whether its server has been started (then only its points are left). */
  started: boolean;
}

/** What a part costs before any like it was measured, s: a server's start and first warm-up, and one step. */
export interface ClockPriors {
  sessionS: number;
  pointS: number;
}

/** The closed sweep's priors, from its plan: a third of the warm-up's bound; a point, its settle and its client. */
export function closedPriors(plan: Plan): ClockPriors {
  return {
    sessionS: 1 + (plan.warmup?.session.maxS ?? 15) / 3,
    pointS: (plan.durationS ?? 1) + (plan.warmup?.load.windowS ?? 0.25) * 2 + 0.4,
  };
}

export class RunClock {
  /** Seconds a server's start and first warm-up took, by server. */
  private readonly sessions = new Map<string, number[]>();
  /** Seconds a point took (settle, measure, stop), by server and step. */
  private readonly points = new Map<string, number[]>();
  private readonly families = new Map<string, string>();

  constructor(private readonly priors: ClockPriors) {}

  recordSession(server: string, seconds: number, family?: string): void {
    push(this.sessions, server, seconds);
    if (family) this.families.set(server, family);
  }

  recordPoint(server: string, step: number, seconds: number): void {
    push(this.points, `${server}@${step}`, seconds);
  }

  /** Expected seconds for the sweeps left: each a server and the steps it still has to measure. */
  remainingS(left: readonly SweepToPrice[]): number {
    let total = 0;
    for (const sweep of left) {
      if (!sweep.started) total += this.sessionS(sweep);
      for (const step of sweep.steps) total += this.pointS(sweep, step);
    }
    return total;
  }

  /** The median over seen servers (of the sweep's family when any was seen) of `cost(server)`, where defined. */
  private peers(sweep: SweepToPrice, cost: (server: string) => number | undefined): number | undefined {
    const seen = [...this.sessions.keys()];
    const same = seen.filter((s) => sweep.family !== undefined && this.families.get(s) === sweep.family);
    for (const group of [same, seen]) {
      const costs = group.map(cost).filter((c): c is number => c !== undefined);
      if (costs.length > 0) return median(costs);
    }
    return undefined;
  }

  private sessionS(sweep: SweepToPrice): number {
    const own = this.sessions.get(sweep.server);
    if (own) return mean(own);
    return this.peers(sweep, (s) => mean(this.sessions.get(s)!)) ?? this.priors.sessionS;
  }

  private pointS(sweep: SweepToPrice, step: number): number {
    const own = this.points.get(`${sweep.server}@${step}`);
    if (own) return mean(own);
    const at = (s: string) => {
      const xs = this.points.get(`${s}@${step}`);
      return xs ? mean(xs) : undefined;
    };
    return this.peers(sweep, at) ?? this.priors.pointS;
  }
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
