// The figures, as Vega-Lite specifications built from the model and rendered to SVG in Node (no browser, no
// canvas: Vega's headless renderer). Every figure colours a server the same way, in ranking order.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CLIENT_BOUND_SHARE, type ReportModel } from './model.js';
import type { ServerSummary } from '../analysis/summary.js';
import { serverText } from './tables.js';
import { bytesText, fixed, groupDigits, intervalText } from '../core/format.js';
import { runtimeFigures } from './runtimes.js';
import { flagLabels } from '../results/verdict.js';
import type { MemoryRun } from '../experiments/memory.js';
import { cdf } from '../load/distribution.js';

export interface Figure {
  /** File name stem: "fig1-measured-load". */
  name: string;
  title: string;
  /** What to read in it, one or two sentences under the figure. */
  caption: string;
  spec: TopLevelSpec;
}

// Tableau 10, then its lighter companions: distinct on a white page, and a server keeps its colour in every figure.
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1f4e79',
  '#a0522d',
  '#8b0000',
  '#2f7f7a',
  '#2e6b2e',
  '#a68a00',
  '#6b3f66',
  '#c4506a',
  '#5e4331',
  '#6e6e6e',
];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/** Wide: a laptop's column and the SVG files. Narrow: a phone held upright (drawn at its size, so text stays legible). */
export type Layout = 'wide' | 'narrow';
const SIZE = {
  wide: { width: 680, height: 360, columns: 4, font: 12 },
  narrow: { width: 290, height: 220, columns: 2, font: 11 },
} as const;
/**
 * Figure 2 spans the page's column (75rem less padding, 1168 px at 1280): drawn about that wide, its legend
 * (slope, interval, intercept, r, req/s for each server, in two columns) is shown near its own 12 px.
 */
const FIG2_WIDE = { width: 1000, height: 420, columns: 2 } as const;

/** Mark names the browser test looks for: one path per server in each. */
export const MARK = { data: 'serverlines', fit: 'fitlines' } as const;

// Multi-line legend labels: the label text carries '|' where the narrow layout breaks the line.
const BREAK = '|';

function colour(domain: string[], legendTitle: string, columns: number, breakLines = false) {
  return {
    field: 'key',
    type: 'nominal' as const,
    sort: domain,
    scale: { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]!) },
    legend: {
      title: legendTitle,
      orient: 'bottom' as const,
      direction: 'vertical' as const,
      columns,
      labelLimit: 0,
      titleLimit: 0,
      symbolType: 'stroke',
      symbolStrokeWidth: 3,
      labelExpr: breakLines ? `split(datum.label, '${BREAK}')` : `replace(datum.label, /[${BREAK}]/g, ', ')`,
    },
  };
}

function frame(layout: Layout, title: string, subtitle: string, layer: unknown[], wide?: { width: number; height: number }): TopLevelSpec {
  const size = { ...SIZE[layout], ...(layout === 'wide' ? wide : {}) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // Narrow: the page gives the title above the drawing (Vega sizes a title by estimate, too wide for a phone).
    ...(layout === 'wide'
      ? { title: { text: title, subtitle, anchor: 'start', fontSize: size.font + 3, subtitleFontSize: size.font, subtitleColor: '#555' } }
      : {}),
    width: size.width,
    height: size.height,
    background: 'white',
    config: {
      font: FONT,
      axis: { labelFontSize: size.font, titleFontSize: size.font, gridColor: '#e6e6e6' },
      legend: { labelFontSize: size.font, titleFontSize: size.font },
    },
    layer,
  } as TopLevelSpec;
}

const loadAxis = (layout: Layout) => ({
  field: 'load',
  type: 'quantitative' as const,
  scale: { zero: true },
  title: layout === 'wide' ? 'offered load l (simultaneous clients)' : 'offered load l',
});

type Pick = (lp: ServerSummary['loads'][number]) => number | null;

/** Lines through the points of every server, y from `pick` (null: left out); `keys` maps a server to its legend label. */
function perServerLines(
  layout: Layout,
  servers: ServerSummary[],
  keys: Map<string, string>,
  pick: Pick,
  yTitle: string,
  legendTitle: string,
  columns: number,
  yScale?: object,
) {
  const values = servers.flatMap((s) =>
    s.loads.map((lp) => ({ key: keys.get(s.server)!, load: lp.load, y: pick(lp) })).filter((v) => v.y !== null),
  );
  return {
    name: MARK.data,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: layout === 'wide' ? 36 : 20 }, strokeWidth: 2, clip: true },
    encoding: {
      x: loadAxis(layout),
      y: { field: 'y', type: 'quantitative', title: yTitle, ...(yScale ? { scale: yScale } : {}) },
      color: colour(
        servers.map((s) => keys.get(s.server)!),
        legendTitle,
        columns,
        layout === 'narrow',
      ),
    },
  };
}

/**
 * Where a latency axis should stop so that every line stays readable: when a few servers (threads, processes)
 * run to seconds, the others would lie flat near zero. The top is three times the median of the servers' largest
 * values (`pick`, mean serving time by default); those above it are clipped and named. Undefined (no clipping)
 * when nobody is that far out.
 */
export function readableTop(servers: readonly ServerSummary[], pick: Pick = (lp) => lp.meanLatencyMs): { top?: number; clipped: string[] } {
  const peaks = servers
    .map((s) => ({ server: s.server, peak: Math.max(...s.loads.map((lp) => pick(lp) ?? -Infinity)) }))
    .filter((p) => Number.isFinite(p.peak));
  if (peaks.length < 3) return { clipped: [] };
  const sorted = peaks.map((p) => p.peak).sort((a, b) => a - b);
  const top = 3 * sorted[Math.floor(sorted.length / 2)]!;
  const clipped = peaks.filter((p) => p.peak > top).map((p) => p.server);
  return clipped.length > 0 ? { top, clipped } : { clipped: [] };
}

/** The caption's sentence for a clipped axis, naming the servers that run off its top. */
function clipSentence(top: number | undefined, clipped: readonly string[], where: string): string {
  if (top === undefined) return '';
  return (
    ` The axis stops at ${fixed(top, 0)} ms so that the other lines stay readable; ${clipped.join(', ')} ` +
    `${clipped.length > 1 ? 'run' : 'runs'} off the top (${where}).`
  );
}

/**
 * The caption's sentence for the points a figure leaves out because they hold no value: loads where every repeat
 * failed or served nothing, and (for `missing`) loads measured without this figure's quantity. Never drawn as 0.
 */
export function notDrawn(servers: readonly ServerSummary[], missing?: { pick: Pick; why: string }): string {
  const parts: string[] = [];
  const say = (loadsOf: (s: ServerSummary) => number[], why: string) => {
    const at = servers.map((s) => ({ s: s.server, loads: loadsOf(s) })).filter((x) => x.loads.length > 0);
    if (at.length > 0) parts.push(`${at.map((x) => `${x.s} at ${x.loads.map((l) => `l=${l}`).join(', ')}`).join('; ')} (${why})`);
  };
  for (const why of ['failed', 'served nothing'] as const) say((s) => s.notMeasured.filter((n) => n.why === why).map((n) => n.load), why);
  if (missing) say((s) => s.loads.filter((lp) => missing.pick(lp) === null).map((lp) => lp.load), missing.why);
  return parts.length > 0 ? ` Not drawn, as they hold no value (never as 0): ${parts.join('; ')}.` : '';
}

/** What every closed-loop figure draws from: the servers with points, their plain legend names, the layout. */
interface Closed {
  layout: Layout;
  servers: ServerSummary[];
  plain: Map<string, string>;
  columns: number;
  x: ReturnType<typeof loadAxis>;
}

export function figures(model: ReportModel, layout: Layout = 'wide'): Figure[] {
  const servers = model.servers.filter((s) => s.loads.length > 0);
  const c: Closed = {
    layout,
    servers,
    plain: new Map(servers.map((s) => [s.server, serverText(s)])),
    columns: SIZE[layout].columns,
    x: loadAxis(layout),
  };
  const out: Figure[] = [measuredLoadFigure(c), servingTimeFigure(c), throughputFigure(c), p99Figure(c)];
  const memory = memoryUnderLoadFigure(c);
  if (memory) out.push(memory);
  out.push(...distributionFigures(servers, layout));
  if (model.memory)
    out.push(
      memoryFigure(
        model.memory,
        layout,
        model.servers.map((s) => s.server),
      ),
    );
  if (model.openLoop) out.push(openLoopFigure(model, layout));
  out.push(...runtimeFigures(model, layout));
  return out;
}

/** Figure 1: whether the client kept l requests in flight (l_m against l), and how many got past the handshake. */
function measuredLoadFigure({ layout, servers, plain, columns, x }: Closed): Figure {
  const maxLoad = Math.max(0, ...servers.flatMap((s) => s.loads.map((lp) => lp.load)));
  return {
    name: 'fig1-measured-load',
    title: 'Figure 1: measured load against offered load',
    caption: `Lines: the measured load l_m = n·t_r/t, how many requests the client kept in flight; a line on the dashed y = x was saturated by the client, and points under ${CLIENT_BOUND_SHARE * 100}% of it are flagged client-bound. Hollow dots: the requests in flight past their TCP handshake, the load the server really held. When the accept queue overflows (the paper's somaxconn trap, --backlog 128), requests wait a second or more for a resent SYN: l_m still follows l, but the hollow dots flatten near the backlog, as the paper's Figure 1(a) did, and those points are flagged backlog-bound.`,
    spec: frame(
      layout,
      'Figure 1: measured load against offered load',
      'dashed: y = x, the ideal; hollow: in flight past the TCP handshake',
      [
        {
          data: {
            values: [
              { load: 0, y: 0 },
              { load: maxLoad, y: maxLoad },
            ],
          },
          mark: { type: 'line', color: '#888', strokeDash: [6, 4], strokeWidth: 1.5 },
          encoding: { x, y: { field: 'y', type: 'quantitative' } },
        },
        perServerLines(layout, servers, plain, (lp) => lp.measuredLoad, 'measured load l_m', 'server', columns),
        {
          data: {
            values: servers.flatMap((s) =>
              s.loads
                .filter((lp) => lp.connectedLoad !== null)
                .map((lp) => ({ key: plain.get(s.server)!, load: lp.load, y: lp.connectedLoad })),
            ),
          },
          mark: { type: 'point', filled: false, size: layout === 'wide' ? 40 : 24, strokeWidth: 1.5, clip: true },
          encoding: {
            x,
            y: { field: 'y', type: 'quantitative' },
            color: colour([...plain.values()], 'server', columns, layout === 'narrow'),
          },
        },
      ],
    ),
  };
}

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

/** Figure 2: the paper's figure, mean serving time against load with each server's fitted line. */
function servingTimeFigure(c: Closed): Figure {
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

/** Figure 2's layers: the range over rounds, the dots in and out of the fit, and the fitted lines, on one y axis. */
function servingTimeLayers({ layout, servers, x }: Closed, y: object): unknown[] {
  const fitted = fitLabels(servers);
  const labels = servers.map((s) => fitted.get(s.server)!);
  const legend =
    layout === 'wide' ? 'server: slope [95% interval], intercept, r, implied throughput' : 'server: slope [95%]; intercept, r, req/s';
  const color = () => colour(labels, legend, layout === 'wide' ? FIG2_WIDE.columns : 1, layout === 'narrow');
  const fitValues = servers.flatMap((s) => {
    if (!s.latencyFit) return [];
    const xs = s.loads.filter((lp) => lp.inFit).map((lp) => lp.load);
    return [Math.min(...xs), Math.max(...xs)].map((load) => ({
      key: fitted.get(s.server)!,
      load,
      y: s.latencyFit!.intercept + s.latencyFit!.slope * load,
    }));
  });
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
        strokeWidth: 1.5,
        filled: inFit,
        clip: true,
        ...(inFit ? {} : { fill: 'white' }),
      },
      encoding: { x, y, color: color() },
    })),
    {
      name: MARK.fit,
      data: { values: fitValues },
      mark: { type: 'line', strokeWidth: 2, clip: true },
      encoding: { x, y, color: color() },
    },
  ];
}

/** A figure of one line per server: throughput, tail latency and memory differ only in what they pick and say. */
function lineFigure(
  { layout, servers, plain, columns }: Closed,
  f: { name: string; title: string; heading?: string; subtitle: string; caption: string; pick: Pick; yTitle: string; yScale?: object },
  only: ServerSummary[] = servers,
): Figure {
  return {
    name: f.name,
    title: f.title,
    caption: f.caption,
    spec: frame(layout, f.heading ?? f.title, f.subtitle, [
      perServerLines(layout, only, plain, f.pick, f.yTitle, 'server', columns, f.yScale),
    ]),
  };
}

function throughputFigure(c: Closed): Figure {
  const rate: Pick = (lp) => lp.throughputRps;
  return lineFigure(c, {
    name: 'fig3-throughput',
    title: 'Throughput against offered load',
    caption:
      'Requests served per second of the kept window. A server that keeps up holds a flat line; one that falls off has run out ' +
      'of something (CPU, memory, accept queue).' +
      notDrawn(c.servers, { pick: rate, why: 'too few responses for a rate: they all started at once' }),
    subtitle: 'kept requests per second',
    pick: rate,
    yTitle: 'requests/s',
  });
}

function p99Figure(c: Closed): Figure {
  const p99: Pick = (lp) => lp.p99Ms;
  const tail = readableTop(c.servers, p99);
  return lineFigure(c, {
    name: 'fig4-p99',
    title: '99th percentile of serving time against offered load',
    heading: '99th percentile serving time',
    caption:
      'The slowest 1% of requests. Far above the mean, it shows outliers such as the paper met (a request retried after an ' +
      `accept-queue overflow waits a second or more).${clipSentence(tail.top, tail.clipped, 'every point is in the table of points')}` +
      notDrawn(c.servers),
    subtitle: 'ms; repeats averaged',
    pick: p99,
    yTitle: 'p99 serving time (ms)',
    ...(tail.top !== undefined ? { yScale: { domain: [0, tail.top] } } : {}),
  });
}

/** Peak memory under load, for the servers whose points sampled it (none: no figure). */
function memoryUnderLoadFigure(c: Closed): Figure | undefined {
  const withMemory = c.servers.filter((s) => s.loads.some((lp) => lp.peakRssBytes !== null));
  if (withMemory.length === 0) return undefined;
  const title = 'Peak memory under load';
  return lineFigure(
    c,
    {
      name: 'fig5-memory',
      title,
      caption:
        "Peak resident memory of the server's whole process tree during each point: what it held under load, not a cost per " +
        'connection (a closed loop at load l holds at most l connections, most of them briefly; the memory experiment below measures ' +
        'the cost of a connection held open).',
      subtitle: 'resident memory of the process tree, peak over each point',
      pick: (lp) => (lp.peakRssBytes === null ? null : lp.peakRssBytes / 1024 ** 2),
      yTitle: 'peak RSS under load (MiB)',
    },
    withMemory,
  );
}

/**
 * The load a CDF figure shows: the one where the most servers have a stored distribution, the higher load on a tie
 * (where servers differ most); undefined when no point stored one (results before eventbench.load/3).
 */
export function cdfLoad(servers: readonly ServerSummary[]): number | undefined {
  const count = new Map<number, number>();
  for (const s of servers) for (const lp of s.loads) if (lp.latencyBuckets) count.set(lp.load, (count.get(lp.load) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
}

/** Beyond the paper: each server's latency CDF at one load, and Jain's fairness index against load. */
function distributionFigures(servers: ServerSummary[], layout: Layout): Figure[] {
  const out: Figure[] = [];
  const load = cdfLoad(servers);
  const at = servers.map((s) => ({ s, lp: s.loads.find((lp) => lp.load === load && lp.latencyBuckets) })).filter((x) => x.lp);
  const missing = servers.filter((s) => !at.some((x) => x.s === s)).map((s) => s.server);
  const values = at.flatMap(({ s, lp }) => cdf(lp!.latencyBuckets!).map((c) => ({ key: s.server, ms: c.ms, share: c.share })));
  // Every server in the legend, as in the other figures, so that each keeps its colour.
  const names = servers.map((s) => s.server);
  if (load !== undefined)
    out.push({
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
    });
  const jain: Pick = (lp) => lp.fairness?.jainIndex ?? null;
  if (!servers.some((s) => s.loads.some((lp) => lp.fairness !== null))) return out;
  out.push({
    name: 'fig8-fairness',
    title: "Fairness against offered load (Jain's index)",
    caption:
      "How evenly the l clients of the closed loop were served over each point's kept window: Jain's index (Σx)²/(n·Σx²) over " +
      "each client's served requests x, averaged over the rounds. 1: every client served alike; 1/l: one client got them all. A " +
      "client's count can differ by one at the window's edges, so a fair server reads just under 1 on a short point (about 0.99 with " +
      "six requests a client). The ranking gives it at the highest load; the table of points adds the slowest client's share of a " +
      `fair one.${notDrawn(servers)}`,
    spec: frame(layout, "Fairness against offered load (Jain's index)", '1 = every client served alike', [
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
    ]),
  });
  return out;
}

/**
 * The memory experiment (memory.json): memory of the server's process tree against idle connections held, one
 * line per server, log y (a few MiB to GiB); the legend gives each one's slope, its cost per connection. `order`
 * puts the servers in the report's order, so each keeps its colour.
 */
export function memoryFigure(run: MemoryRun, layout: Layout, order: readonly string[] = []): Figure {
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  const servers = run.servers.filter((s) => s.levels.length > 0).sort((a, b) => rank(a.server) - rank(b.server));
  const cost = (s: MemoryRun['servers'][number]) =>
    s.measurable ? `${bytesText(s.fit!.bytesPerConnection)}/connection, r ${fixed(s.fit!.r, 3)}` : 'not measurable here';
  const label = new Map(servers.map((s) => [s.server, `${s.server}${BREAK}${cost(s)}`]));
  const values = servers.flatMap((s) =>
    s.levels.map((l) => ({
      key: label.get(s.server)!,
      connections: l.acceptedConnections ?? l.connections,
      y: l.memoryBytes / 2 ** 20,
    })),
  );
  const title = 'Memory per connection: memory against idle connections held';
  return {
    name: 'fig-memory',
    title,
    caption:
      'Each server started fresh, then idle connections (each had sent half a request head) added level by level and held; the ' +
      "memory of its process tree once settled (PSS for several processes, RSS for one), log scale. A line's slope is what one more " +
      'connection costs; the legend gives it where the fit is a figure (r ≥ 0.9 and a slope above 0).',
    spec: frame(layout, title, 'log y; legend: bytes per connection (the slope), r', [
      {
        data: { values },
        mark: { type: 'line', point: { filled: true, size: layout === 'wide' ? 30 : 18 }, strokeWidth: 2 },
        encoding: {
          x: { field: 'connections', type: 'quantitative', title: 'idle connections held (accepted by the server)' },
          y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: 'server memory (MiB, PSS or RSS)' },
          color: colour(
            servers.map((s) => label.get(s.server)!),
            'server: bytes per connection, r',
            layout === 'wide' ? 3 : 1,
            layout === 'narrow',
          ),
        },
      },
    ]),
  };
}

/** The open loop (src/report/open-loop.ts): p99 (solid) and p50 (dashed) against offered rate, log y, one colour a server. */
function openLoopFigure(model: ReportModel, layout: Layout): Figure {
  const open = model.openLoop!;
  const names = open.servers.map((s) => s.server);
  const values = open.servers
    .flatMap((s) =>
      s.points.flatMap((p) => [
        { key: s.server, stat: 'p99', rate: p.rateRps, y: p.p99Ms, flagged: p.flag !== null },
        { key: s.server, stat: 'p50', rate: p.rateRps, y: p.p50Ms, flagged: p.flag !== null },
      ]),
    )
    .filter((v) => Number.isFinite(v.y) && v.y > 0);
  const x = {
    field: 'rate',
    type: 'quantitative' as const,
    scale: { type: 'log' as const },
    title: 'offered rate (requests/s, log scale)',
  };
  const y = {
    field: 'y',
    type: 'quantitative' as const,
    scale: { type: 'log' as const },
    title: 'latency from scheduled start (ms, log scale)',
  };
  const title = 'Open loop: latency against offered rate';
  return {
    name: 'fig6-open-loop',
    title,
    caption: `Requests sent on a schedule (the open loop), each server at fractions of its own closed-loop capacity; latency counts from each request's scheduled start, so a server that falls behind shows it in every request that waited. Solid: p99; dashed: p50. The knee (table) is the highest rate whose p99 stays under ${open.kneeFactor}× the low-load p99. Hollow points were left out of it (the client fell behind its schedule, or --max-inflight was reached).`,
    spec: frame(layout, title, 'solid: p99, dashed: p50', [
      {
        name: MARK.data,
        data: { values },
        mark: { type: 'line', point: { size: layout === 'wide' ? 30 : 18 }, strokeWidth: 2, clip: true },
        encoding: {
          x,
          y,
          color: colour(names, 'server', SIZE[layout].columns),
          detail: { field: 'stat' },
          strokeDash: {
            field: 'stat',
            type: 'nominal',
            scale: {
              domain: ['p99', 'p50'],
              range: [
                [1, 0],
                [5, 3],
              ],
            },
            legend: { title: 'percentile', orient: 'bottom' },
          },
        },
      },
    ]),
  };
}

/**
 * Text widths, em per character, of DejaVu Sans (what `system-ui` is on Debian, and wider than the sans faces of
 * macOS or Windows): Vega lays out legends and titles by these. Without a canvas Vega guesses 0.8 em for every
 * character, half again too wide, and Figure 2's legend then made its drawing twice the page's width, shrunk
 * to a 7 px font. Characters not listed count as a lowercase letter.
 */
const EM: [RegExp, number][] = [
  [/[ il.,:;|/·'!IJj]/, 0.32],
  [/[frt()[\]-]/, 0.4],
  [/[mw%@MW]/, 0.95],
  [/[=≈×+<>#~]/, 0.84],
  [/[A-Z]/, 0.72],
  [/[0-9]/, 0.64],
  [/[–_]/, 0.5],
];

/** The width Vega should give `text` in `item`'s font, px (a custom textMetrics.width, as vl-convert sets one). */
function textWidth(item: { fontSize?: number; fontWeight?: string | number; limit?: number }, text: unknown): number {
  const line = text === null || text === undefined ? '' : String(text).trim();
  let em = 0;
  for (const c of line) em += EM.find(([re]) => re.test(c))?.[1] ?? 0.61;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? 1.1 : 1;
  const width = em * (item.fontSize ?? 11) * bold;
  return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
}
(vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;

/**
 * Compiles a Vega-Lite spec and renders it to an SVG document, headless. The libraries' own warnings are kept
 * off the terminal (only the CLI prints). `idPrefix` makes the SVG's ids (clip paths) unique when several
 * figures sit inline in one page.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix = ''): Promise<string> {
  const compiled = compile(spec, { logger: vega.logger(vega.None) });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', logLevel: vega.None });
  try {
    const svg = await view.toSVG();
    return idPrefix ? svg.replace(/\bid="([^"]+)"/g, `id="${idPrefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`) : svg;
  } finally {
    view.finalize();
  }
}
