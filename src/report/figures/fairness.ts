// Beyond the paper: how evenly the closed loop's clients were served, Jain's index against the offered load.
import type { ServerSummary } from '../../analysis/summary.js';
import { frame, SIZE, type Figure, type Layout } from './frame.js';
import { notDrawn, perServerLines, type Pick } from './lines.js';

/** Jain's index against load, or none when no point stored per-client counts (results before eventbench.load/3). */
export function fairnessFigure(servers: ServerSummary[], layout: Layout): Figure | undefined {
  const jain: Pick = (lp) => lp.fairness?.jainIndex ?? null;
  if (!servers.some((s) => s.loads.some((lp) => lp.fairness !== null))) return undefined;
  return {
    name: 'fig8-fairness',
    title: "Fairness against offered load (Jain's index)",
    caption:
      "How evenly the l clients of the closed loop were served over each point's kept window: Jain's index (Σx)²/(n·Σx²) over " +
      "each client's served requests x, averaged over the rounds. 1: every client served alike; 1/l: one client got them all. A " +
      "client's count can differ by one at the window's edges, so a fair server reads just under 1 on a short point (about 0.99 with " +
      "six requests a client). The ranking gives it at the highest load; the table of points adds the slowest client's share of a " +
      `fair one.${notDrawn(servers)}`,
    spec: frame(
      layout,
      "Fairness against offered load (Jain's index)",
      '1 = every client served alike',
      perServerLines(
        layout,
        servers,
        new Map(servers.map((s) => [s.server, s.server])),
        jain,
        "Jain's index",
        'server',
        SIZE[layout].columns,
        { zero: false },
      ),
    ),
  };
}
