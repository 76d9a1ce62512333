// Beyond the paper: each server's latency distribution at one load, the rounds pooled by adding bucket counts.
import type { ServerSummary } from '../../analysis/summary.js';
import { cdf } from '../../load/distribution.js';
import { colour, frame, MARK, SIZE, type Figure, type Layout } from './frame.js';

/**
 * The load a CDF figure shows: the one where the most servers have a stored distribution, the higher load on a tie
 * (where servers differ most); undefined when no point stored one (results before eventbench.load/3).
 */
export function cdfLoad(servers: readonly ServerSummary[]): number | undefined {
  const count = new Map<number, number>();
  for (const s of servers) for (const lp of s.loads) if (lp.latencyBuckets) count.set(lp.load, (count.get(lp.load) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
}

/** The CDF at cdfLoad, or none when no point stored a distribution. */
export function latencyCdfFigure(servers: ServerSummary[], layout: Layout): Figure | undefined {
  const load = cdfLoad(servers);
  if (load === undefined) return undefined;
  const at = servers.map((s) => ({ s, lp: s.loads.find((lp) => lp.load === load && lp.latencyBuckets) })).filter((x) => x.lp);
  const missing = servers.filter((s) => !at.some((x) => x.s === s)).map((s) => s.server);
  const values = at.flatMap(({ s, lp }) => cdf(lp!.latencyBuckets!).map((c) => ({ key: s.server, ms: c.ms, share: c.share })));
  // Every server in the legend, as in the other figures, so that each keeps its colour.
  const names = servers.map((s) => s.server);
  return {
    name: 'fig7-latency-cdf',
    title: `Latency distribution at l=${load}`,
    caption:
      `The share of requests served within a time (log scale), at l=${load}, the load most servers were measured at: each ` +
      "point's kept requests on log buckets (12% wide; exact at each bucket's edge), the rounds pooled by adding their counts. A line " +
      'to the left is faster; a long tail stretches right before it reaches 1.' +
      (missing.length > 0 ? ` Not shown (no distribution at l=${load}): ${missing.join(', ')}.` : ''),
    spec: frame(layout, `Latency distribution at l=${load}`, 'share of requests served within the time; log x', [
      {
        name: MARK.data,
        data: { values },
        mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
        encoding: {
          x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'serving time (ms, log scale)' },
          y: { field: 'share', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'requests served within' },
          color: colour(names, 'server', SIZE[layout].columns, layout === 'narrow'),
        },
      },
    ]),
  };
}
