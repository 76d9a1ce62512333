// How long the rest of a run will take. A run is a list of sweeps (one server, one round: start, warm up, then
// each load), and their costs differ tenfold (a TypeScript server warms for seconds, a native one for a moment;
// a process per connection takes seconds a point), so "time so far × points left / points done" is wrong for most
// of a run. Each part left is priced by what the same part cost before: the same server's earlier round when
// there is one; else the median over the servers of its family measured so far (the median, so that one slow
// server does not price all the others), else over all servers; else a prior from the plan.
import type { Plan } from './schema.js';
import { mean, median } from '../core/numbers.js';

export interface SweepToPrice {
  server: string;
  /** typescript, native, production: servers of one family cost alike (a JIT warms up, C does not). */
  family?: string;
  loads: readonly number[];
  /** Whether its server has been started (then only its points are left). */
  started: boolean;
}

export class RunClock {
  /** Seconds a server's start and first warm-up took, by server. */
  private readonly sessions = new Map<string, number[]>();
  /** Seconds a point took (settle, measure, stop), by server and load. */
  private readonly points = new Map<string, number[]>();
  private readonly families = new Map<string, string>();

  constructor(private readonly plan: Plan) {}

  recordSession(server: string, seconds: number, family?: string): void {
    push(this.sessions, server, seconds);
    if (family) this.families.set(server, family);
  }

  recordPoint(server: string, load: number, seconds: number): void {
    push(this.points, `${server}@${load}`, seconds);
  }

  /** Expected seconds for the sweeps left: each a server and the loads it still has to measure. */
  remainingS(left: readonly SweepToPrice[]): number {
    let total = 0;
    for (const sweep of left) {
      if (!sweep.started) total += this.sessionS(sweep);
      for (const load of sweep.loads) total += this.pointS(sweep, load);
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
    return this.peers(sweep, (s) => mean(this.sessions.get(s)!)) ?? 1 + (this.plan.warmup?.session.maxS ?? 15) / 3;
  }

  private pointS(sweep: SweepToPrice, load: number): number {
    const own = this.points.get(`${sweep.server}@${load}`);
    if (own) return mean(own);
    const at = (s: string) => { const xs = this.points.get(`${s}@${load}`); return xs ? mean(xs) : undefined; };
    return this.peers(sweep, at) ?? (this.plan.durationS ?? 1) + (this.plan.warmup?.load.windowS ?? 0.25) * 2 + 0.4;
  }
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
