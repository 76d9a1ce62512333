// Figure 2 of the paper: mean serving time against offered load, each server's dots (the rounds averaged, a bar
// over their range) and its fitted line; the legend carries each fit's numbers, since the figure is read by them.
import type { ServerSummary } from '../../analysis/summary.js';
import { fixed, groupDigits, intervalText } from '../../core/format.js';
import { flagLabels } from '../../results/verdict.js';
import { serverText } from '../tables.js';
import { BREAK, colour, frame, MARK, type Figure } from './frame.js';
import { clipSentence, notDrawn, readableTop, type Closed } from './lines.js';

/**
 * Figure 2 spans the page's column (75rem less padding, 1168 px at 1280): drawn about that wide, its legend
 * (slope, interval, intercept, r, req/s for each server, in two columns) is shown near its own 12 px.
 */
const FIG2_WIDE = { width: 1000, height: 420, columns: 2 } as const;

/** Figure 2's legend label of each server: the fit's numbers travel with its colour, since the figure is read by them. */
function fitLabels(servers: readonly ServerSummary[]): Map<string, string> {
  return new Map(
    servers.map((s) => [
      s.server,
      s.latencyFit
        ? `${serverText(s)}: ${s.slopeCi ? intervalText(s.slopeCi, 3) : fixed(s.latencyFit.slope, 3)} ms/client${BREAK}${fixed(s.latencyFit.intercept, 2)} ms at 0, r ${fixed(s.latencyFit.r, 4)}, ≈ ${s.impliedRps === null ? '—' : groupDigits(s.impliedRps)} req/s`
        : `${serverText(s)}: no fit`,
    ]),
  );
}

export function servingTimeFigure(c: Closed): Figure {
  const { layout, servers } = c;
  const { top, clipped } = readableTop(servers);
  const y = {
    field: 'y',
    type: 'quantitative',
    title: 'mean serving time (ms)',
    ...(top !== undefined ? { scale: { domain: [0, top] } } : {}),
  };
  const clipText = clipSentence(top, clipped, 'their slopes are in the legend and the ranking');
  return {
    name: 'fig2-serving-time',
    title: 'Figure 2: mean serving time against offered load',
    caption:
      'Dots: mean time to serve a request at each load, averaged over the rounds; bars: the lowest and highest round. ' +
      "Lines: each server's least-squares fit. A smaller slope is a faster server; by Little's law the slope is the inverse of the " +
      'throughput, so 1000/slope is the requests per second it implies. Hollow dots were left out of the fit (flagged: ' +
      `${flagLabels()}).${clipText}${notDrawn(servers)}`,
    spec: frame(
      layout,
      'Figure 2: mean serving time against offered load',
      layout === 'wide'
        ? 'lines: least-squares fit; bars: range over rounds; legend: slope [95% interval], intercept, r, implied throughput'
        : 'lines: least-squares fits',
      servingTimeLayers(c, y),
      FIG2_WIDE,
    ),
  };
}

/** Each fitted server's line, drawn over the loads that entered its fit. */
function fitValues(servers: readonly ServerSummary[], fitted: Map<string, string>) {
  return servers.flatMap((s) => {
    if (!s.latencyFit) return [];
    const xs = s.loads.filter((lp) => lp.inFit).map((lp) => lp.load);
    return [Math.min(...xs), Math.max(...xs)].map((load) => ({
      key: fitted.get(s.server)!,
      load,
      y: s.latencyFit!.intercept + s.latencyFit!.slope * load,
    }));
  });
}

/** Figure 2's layers: the range over rounds, the dots in and out of the fit, and the fitted lines, on one y axis. */
function servingTimeLayers({ layout, servers, x }: Closed, y: object): unknown[] {
  const fitted = fitLabels(servers);
  const labels = servers.map((s) => fitted.get(s.server)!);
  const legend =
    layout === 'wide' ? 'server: slope [95% interval], intercept, r, implied throughput' : 'server: slope [95%]; intercept, r, req/s';
  const color = () => colour(labels, legend, layout === 'wide' ? FIG2_WIDE.columns : 1, layout === 'narrow');
  return [
    {
      data: {
        values: servers.flatMap((s) =>
          s.loads
            .filter((lp) => lp.repeats > 1)
            .map((lp) => ({ key: fitted.get(s.server)!, load: lp.load, lo: lp.meanLatencyMinMs, hi: lp.meanLatencyMaxMs })),
        ),
      },
      mark: { type: 'rule', strokeWidth: 1.5, clip: true },
      encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: color() },
    },
    ...[true, false].map((inFit) => ({
      data: {
        values: servers.flatMap((s) =>
          s.loads.filter((lp) => lp.inFit === inFit).map((lp) => ({ key: fitted.get(s.server)!, load: lp.load, y: lp.meanLatencyMs })),
        ),
      },
      mark: {
        type: 'point',
        size: layout === 'wide' ? 40 : 24,
        filled: inFit,
        clip: true,
        ...(inFit ? {} : { fill: 'white', strokeWidth: 1.5 }),
      },
      encoding: { x, y, color: color() },
    })),
    {
      name: MARK.fit,
      data: { values: fitValues(servers, fitted) },
      mark: { type: 'line', strokeWidth: 2, clip: true },
      encoding: { x, y, color: color() },
    },
  ];
}
