// The ranking: one summary per server (analysis/summary.ts), each server's slope ratio to the run's reference
// server with its 95% interval (rounds paired), the tie groups down the table (ties.ts), and the table's order:
// ranked servers by their ratio, then those compared with none (--url), then those without a slope.
import { overlaps, ratioInterval } from '../core/intervals.js';
import { seriesOf, slopeOf, summarise, unthrottled, type ServerSummary } from '../analysis/summary.js';
import { applyPaired } from '../analysis/ratios.js';
import { tieGroups } from './ties.js';
import type { ReportInput } from './read.js';

export interface Ties {
  /** Servers of each tie group, fastest group first, in table order. */
  groups: string[][];
  /** Pairs of servers in different groups whose ratio intervals overlap all the same. */
  chains: [string, string][];
}

/** Ratios to the reference with intervals; tie groups and ranks in ranking order (see ties.ts). */
export function rankServers(servers: ServerSummary[], reference: string | null, stored?: ReportInput): Ties {
  const ref = servers.find((s) => s.server === reference);
  if (!ref) return { groups: [], chains: [] };
  // The paired design (run/4): ratios paired in time, cycles nested in processes; earlier runs pair their rounds.
  if (stored && stored.info.plan.cycles !== undefined)
    applyPaired(servers, stored.points, stored.visits ?? [], stored.info.plan, ref.server);
  else for (const s of servers) if (slopeOf(s) !== null && !unthrottled(s)) s.ratio = ratioInterval(seriesOf(s.loads), seriesOf(ref.loads));
  // The order the table shows (rankingOrder sorts alike; both sorts are stable from the slope order).
  const ranked = servers.filter((s) => s.ratio !== null).sort((a, b) => a.ratio!.value - b.ratio!.value);
  for (const s of ranked) s.tiedWith = ranked.filter((o) => o !== s && overlaps(o.ratio!, s.ratio!)).map((o) => o.server);
  const ties = tieGroups(ranked.map((s) => s.ratio!));
  ranked.forEach((s, i) => {
    s.rank = ties.rank[i]!;
    s.group = ties.group[i]!;
  });
  return {
    groups: ties.members.map((m) => m.map((i) => ranked[i]!.server)),
    chains: ties.chains.map(([i, j]) => [ranked[i]!.server, ranked[j]!.server]),
  };
}

/**
 * Sorts the servers as the table shows them: by the paired ratio where there is one (it is what the ranks and
 * ties are read from), then by slope. Ranked servers first, so that ranks never decrease down the table; the rest
 * by slope, then in plan order.
 */
export function rankingOrder(servers: ServerSummary[]): void {
  servers.sort(
    (a, b) =>
      Number(a.rank === null) - Number(b.rank === null) ||
      (a.ratio && b.ratio ? a.ratio.value - b.ratio.value : slopeOrder(a) - slopeOrder(b)),
  );
}

/** Servers by slope; those compared with none (--url) after every slope, those without a slope last. */
const slopeOrder = (s: ServerSummary): number => (unthrottled(s) ? Number.MAX_VALUE : (slopeOf(s) ?? Infinity));

/** One summary per server, planned servers in plan order then any others the points name, sorted by slope. */
export function summariseAll({ info: run, points }: ReportInput): ServerSummary[] {
  const names = [...run.plan.servers, ...points.map((p) => p.server)].filter((n, i, all) => all.indexOf(n) === i);
  const servers = names
    .map((name) => points.filter((p) => p.server === name))
    .filter((ps) => ps.length > 0)
    .map((ps) => summarise(ps[0]!.server, ps, run.plan));
  // Stable sort: servers without a slope keep plan order at the end, after those compared with none (--url).
  return servers.sort((a, b) => slopeOrder(a) - slopeOrder(b));
}
