// How long the rest of a run will take. A run is a list of sweeps (one server, one round: start, warm up, then
// each load), and their costs differ tenfold (a TypeScript server warms for seconds, a native one for a moment;
// a slow server's points are lengthened at high loads), so "time so far × points left / points done" is wrong
// for most of a run. Each part left is priced by what the same part cost before: the same server's earlier
// round when there is one, else the mean over servers measured so far, else a prior from the plan.
import type { Plan } from './schema.js';

export class RunClock {
  /** Seconds a server's start and first warm-up took, by server. */
  private readonly sessions = new Map<string, number[]>();
  /** Seconds a point took (settle, measure, stop), by server and load. */
  private readonly points = new Map<string, number[]>();
  private readonly pointsByLoad = new Map<number, number[]>();

  constructor(private readonly plan: Plan) {}

  recordSession(server: string, seconds: number): void {
    push(this.sessions, server, seconds);
  }

  recordPoint(server: string, load: number, seconds: number): void {
    push(this.points, `${server}@${load}`, seconds);
    push(this.pointsByLoad, load, seconds);
  }

  /** Expected seconds for the sweeps left: each a server and the loads it still has to measure. */
  remainingS(left: readonly { server: string; loads: readonly number[]; started: boolean }[]): number {
    let total = 0;
    for (const sweep of left) {
      if (!sweep.started) total += this.sessionS(sweep.server);
      for (const load of sweep.loads) total += this.pointS(sweep.server, load);
    }
    return total;
  }

  private sessionS(server: string): number {
    const own = this.sessions.get(server);
    if (own) return mean(own);
    const all = [...this.sessions.values()].flat();
    return all.length ? mean(all) : 1 + (this.plan.warmup?.session.maxS ?? 15) / 3;
  }

  private pointS(server: string, load: number): number {
    const own = this.points.get(`${server}@${load}`);
    if (own) return mean(own);
    const atLoad = this.pointsByLoad.get(load);
    if (atLoad) return mean(atLoad);
    const all = [...this.pointsByLoad.values()].flat();
    return all.length ? mean(all) : (this.plan.durationS ?? 1) + (this.plan.warmup?.load.windowS ?? 0.25) * 2 + 0.4;
  }
}

function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
