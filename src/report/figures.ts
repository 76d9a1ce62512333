// The figures, as Vega-Lite specifications built from the model and rendered to SVG in Node (no browser, no
// canvas: Vega's headless renderer). Every figure colours a server the same way, in ranking order.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CLIENT_BOUND_SHARE, type ReportModel, type ServerSummary } from './model.js';
import { bytesText, fixed, groupDigits, intervalText, serverText } from './tables.js';
import { runtimeFigures } from './runtimes.js';

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
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f4e79', '#a0522d', '#8b0000', '#2f7f7a', '#2e6b2e', '#a68a00', '#6b3f66', '#c4506a', '#5e4331', '#6e6e6e',
];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/** Wide: a laptop's column and the SVG files. Narrow: a phone held upright (drawn at its size, so text stays legible). */
export type Layout = 'wide' | 'narrow';
const SIZE = { wide: { width: 560, height: 320, columns: 4, font: 12 }, narrow: { width: 290, height: 220, columns: 2, font: 11 } } as const;

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
      title: legendTitle, orient: 'bottom' as const, direction: 'vertical' as const, columns, labelLimit: 0, titleLimit: 0,
      symbolType: 'stroke', symbolStrokeWidth: 3,
      labelExpr: breakLines ? `split(datum.label, '${BREAK}')` : `replace(datum.label, /[${BREAK}]/g, ', ')`,
    },
  };
}

function frame(layout: Layout, title: string, subtitle: string, layer: unknown[]): TopLevelSpec {
  const size = SIZE[layout];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // Narrow: the page gives the title above the drawing (Vega sizes a title by estimate, too wide for a phone).
    ...(layout === 'wide' ? { title: { text: title, subtitle, anchor: 'start', fontSize: size.font + 3, subtitleFontSize: size.font, subtitleColor: '#555' } } : {}),
    width: size.width,
    height: size.height,
    background: 'white',
    config: { font: FONT, axis: { labelFontSize: size.font, titleFontSize: size.font, gridColor: '#e6e6e6' }, legend: { labelFontSize: size.font, titleFontSize: size.font } },
    layer,
  } as TopLevelSpec;
}

const loadAxis = (layout: Layout) => ({ field: 'load', type: 'quantitative' as const, scale: { zero: true }, title: layout === 'wide' ? 'offered load l (simultaneous clients)' : 'offered load l' });

type Pick = (lp: ServerSummary['loads'][number]) => number | null;

/** Lines through the points of every server, y from `pick` (null: left out); `keys` maps a server to its legend label. */
function perServerLines(layout: Layout, servers: ServerSummary[], keys: Map<string, string>, pick: Pick, yTitle: string, legendTitle: string, columns: number) {
  const values = servers.flatMap((s) => s.loads.map((lp) => ({ key: keys.get(s.server)!, load: lp.load, y: pick(lp) })).filter((v) => v.y !== null));
  return {
    name: MARK.data,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: layout === 'wide' ? 36 : 20 }, strokeWidth: 2, clip: true },
    encoding: { x: loadAxis(layout), y: { field: 'y', type: 'quantitative', title: yTitle }, color: colour(servers.map((s) => keys.get(s.server)!), legendTitle, columns, layout === 'narrow') },
  };
}

/**
 * Where Figure 2's axis should stop so that every line stays readable: when a few servers (threads, processes)
 * run to seconds, the others would lie flat near zero. The top is three times the median of the servers' largest
 * mean serving times; those above it are clipped and named. Undefined (no clipping) when nobody is that far out.
 */
export function readableTop(servers: readonly ServerSummary[]): { top?: number; clipped: string[] } {
  const peaks = servers.map((s) => ({ server: s.server, peak: Math.max(...s.loads.map((lp) => lp.meanLatencyMs)) })).filter((p) => Number.isFinite(p.peak));
  if (peaks.length < 3) return { clipped: [] };
  const sorted = peaks.map((p) => p.peak).sort((a, b) => a - b);
  const top = 3 * sorted[Math.floor(sorted.length / 2)]!;
  const clipped = peaks.filter((p) => p.peak > top).map((p) => p.server);
  return clipped.length > 0 ? { top, clipped } : { clipped: [] };
}

export function figures(model: ReportModel, layout: Layout = 'wide'): Figure[] {
  const servers = model.servers.filter((s) => s.loads.length > 0);
  const plain = new Map(servers.map((s) => [s.server, serverText(s)]));
  const columns = SIZE[layout].columns;
  const maxLoad = Math.max(0, ...servers.flatMap((s) => s.loads.map((lp) => lp.load)));
  const x = loadAxis(layout);
  const out: Figure[] = [];

  out.push({
    name: 'fig1-measured-load',
    title: 'Figure 1: measured load against offered load',
    caption: `Lines: the measured load l_m = n·t_r/t, how many requests the client kept in flight; a line on the dashed y = x was saturated by the client, and points under ${CLIENT_BOUND_SHARE * 100}% of it are flagged client-bound. Hollow dots: the requests in flight past their TCP handshake, the load the server really held. When the accept queue overflows (the paper's somaxconn trap, --backlog 128), requests wait a second or more for a resent SYN: l_m still follows l, but the hollow dots flatten near the backlog, as the paper's Figure 1(a) did, and those points are flagged backlog-bound.`,
    spec: frame(layout, 'Figure 1: measured load against offered load', 'dashed: y = x, the ideal; hollow: in flight past the TCP handshake', [
      { data: { values: [{ load: 0, y: 0 }, { load: maxLoad, y: maxLoad }] }, mark: { type: 'line', color: '#888', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { x, y: { field: 'y', type: 'quantitative' } } },
      perServerLines(layout, servers, plain, (lp) => lp.measuredLoad, 'measured load l_m', 'server', columns),
      {
        data: { values: servers.flatMap((s) => s.loads.filter((lp) => lp.connectedLoad !== null)
          .map((lp) => ({ key: plain.get(s.server)!, load: lp.load, y: lp.connectedLoad }))) },
        mark: { type: 'point', filled: false, size: layout === 'wide' ? 40 : 24, strokeWidth: 1.5, clip: true },
        encoding: {
          x, y: { field: 'y', type: 'quantitative' }, color: colour([...plain.values()], 'server', columns, layout === 'narrow'),
        },
      },
    ]),
  });

  const fitted = new Map(servers.map((s) => [s.server, s.latencyFit
    ? `${serverText(s)}: ${s.slopeCi ? intervalText(s.slopeCi, 3) : fixed(s.latencyFit.slope, 3)} ms/client${BREAK}${fixed(s.latencyFit.intercept, 2)} ms at 0, r ${fixed(s.latencyFit.r, 4)}, ≈ ${s.impliedRps === null ? '—' : groupDigits(s.impliedRps)} req/s`
    : `${serverText(s)}: no fit`]));
  const labels = servers.map((s) => fitted.get(s.server)!);
  const legend = layout === 'wide' ? 'server: slope [95% interval], intercept, r, implied throughput' : 'server: slope [95%]; intercept, r, req/s';
  const fitValues = servers.flatMap((s) => {
    if (!s.latencyFit) return [];
    const xs = s.loads.filter((lp) => lp.inFit).map((lp) => lp.load);
    return [Math.min(...xs), Math.max(...xs)].map((load) => ({ key: fitted.get(s.server)!, load, y: s.latencyFit!.intercept + s.latencyFit!.slope * load }));
  });
  const { top, clipped } = readableTop(servers);
  const y = { field: 'y', type: 'quantitative', title: 'mean serving time (ms)', ...(top !== undefined ? { scale: { domain: [0, top] } } : {}) };
  const clipText = clipped.length > 0 ? ` The axis stops at ${fixed(top!, 0)} ms so that the fast servers' lines stay readable; ${clipped.join(', ')} ${clipped.length > 1 ? 'run' : 'runs'} off the top (their slopes are in the legend and the ranking).` : '';
  out.push({
    name: 'fig2-serving-time',
    title: 'Figure 2: mean serving time against offered load',
    caption: `Dots: mean time to serve a request at each load, averaged over the rounds; bars: the lowest and highest round. Lines: each server's least-squares fit. A smaller slope is a faster server; by Little's law the slope is the inverse of the throughput, so 1000/slope is the requests per second it implies. Hollow dots were left out of the fit (flagged: client-bound, not steady, off its CPU quota).${clipText}`,
    spec: frame(layout, 'Figure 2: mean serving time against offered load', layout === 'wide' ? 'lines: least-squares fit; bars: range over rounds; legend: slope [95% interval], intercept, r, implied throughput' : 'lines: least-squares fits', [
      {
        data: { values: servers.flatMap((s) => s.loads.filter((lp) => lp.repeats > 1).map((lp) => ({ key: fitted.get(s.server)!, load: lp.load, lo: lp.meanLatencyMinMs, hi: lp.meanLatencyMaxMs }))) },
        mark: { type: 'rule', strokeWidth: 1.5, clip: true },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: colour(labels, legend, 1, layout === 'narrow') },
      },
      ...[true, false].map((inFit) => ({
        data: { values: servers.flatMap((s) => s.loads.filter((lp) => lp.inFit === inFit).map((lp) => ({ key: fitted.get(s.server)!, load: lp.load, y: lp.meanLatencyMs }))) },
        mark: { type: 'point', size: layout === 'wide' ? 40 : 24, strokeWidth: 1.5, filled: inFit, clip: true, ...(inFit ? {} : { fill: 'white' }) },
        encoding: { x, y, color: colour(labels, legend, 1, layout === 'narrow') },
      })),
      { name: MARK.fit, data: { values: fitValues }, mark: { type: 'line', strokeWidth: 2, clip: true }, encoding: { x, y, color: colour(labels, legend, 1, layout === 'narrow') } },
    ]),
  });

  out.push({
    name: 'fig3-throughput',
    title: 'Throughput against offered load',
    caption: 'Requests served per second of the kept window. A server that keeps up holds a flat line; one that falls off has run out of something (CPU, memory, accept queue).',
    spec: frame(layout, 'Throughput against offered load', 'kept requests per second', [perServerLines(layout, servers, plain, (lp) => lp.throughputRps, 'requests/s', 'server', columns)]),
  });

  out.push({
    name: 'fig4-p99',
    title: '99th percentile of serving time against offered load',
    caption: 'The slowest 1% of requests. Far above the mean, it shows outliers such as the paper met (a request retried after an accept-queue overflow waits a second or more).',
    spec: frame(layout, '99th percentile serving time', 'ms; repeats averaged', [perServerLines(layout, servers, plain, (lp) => lp.p99Ms, 'p99 serving time (ms)', 'server', columns)]),
  });

  const withMemory = servers.filter((s) => s.loads.some((lp) => lp.peakRssBytes !== null));
  if (withMemory.length > 0) {
    const memLabels = new Map(withMemory.map((s) => [s.server, `${s.server}:${BREAK}${s.bytesPerConnection === null ? '—' : bytesText(s.bytesPerConnection)}/connection`]));
    out.push({
      name: 'fig5-memory',
      title: 'Peak server memory against offered load',
      caption: "Peak resident memory of the server's whole process tree. The slope is the memory each extra connection costs: the paper's conclusion says events need much less than threads, and this measures it.",
      spec: frame(layout, 'Peak server memory against offered load', layout === 'wide' ? 'legend: bytes per connection (slope of memory against load)' : 'legend: bytes per connection', [
        perServerLines(layout, withMemory, memLabels, (lp) => (lp.peakRssBytes === null ? null : lp.peakRssBytes / 1024 ** 2), 'peak RSS (MiB)', 'server: bytes per connection', 2),
      ]),
    });
  }
  if (model.openLoop) out.push(openLoopFigure(model, layout));
  out.push(...runtimeFigures(model, layout));
  return out;
}

/** The open loop (src/report/open-loop.ts): p99 (solid) and p50 (dashed) against offered rate, log y, one colour a server. */
function openLoopFigure(model: ReportModel, layout: Layout): Figure {
  const open = model.openLoop!;
  const names = open.servers.map((s) => s.server);
  const values = open.servers.flatMap((s) => s.points.flatMap((p) => [
    { key: s.server, stat: 'p99', rate: p.rateRps, y: p.p99Ms, flagged: p.flag !== null },
    { key: s.server, stat: 'p50', rate: p.rateRps, y: p.p50Ms, flagged: p.flag !== null },
  ])).filter((v) => Number.isFinite(v.y) && v.y > 0);
  const x = { field: 'rate', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'offered rate (requests/s, log scale)' };
  const y = { field: 'y', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'latency from scheduled start (ms, log scale)' };
  const title = 'Open loop: latency against offered rate';
  return {
    name: 'fig6-open-loop',
    title,
    caption: `Requests sent on a schedule (the open loop), each server at fractions of its own closed-loop capacity; latency counts from each request's scheduled start, so a server that falls behind shows it in every request that waited. Solid: p99; dashed: p50. The knee (table) is the highest rate whose p99 stays under ${open.kneeFactor}× the low-load p99. Hollow points were left out of it (the client fell behind its schedule, or --max-inflight was reached).`,
    spec: frame(layout, title, 'solid: p99, dashed: p50', [{
      name: MARK.data,
      data: { values },
      mark: { type: 'line', point: { size: layout === 'wide' ? 30 : 18 }, strokeWidth: 2, clip: true },
      encoding: { x, y, color: colour(names, 'server', SIZE[layout].columns), detail: { field: 'stat' },
        strokeDash: { field: 'stat', type: 'nominal', scale: { domain: ['p99', 'p50'], range: [[1, 0], [5, 3]] }, legend: { title: 'percentile', orient: 'bottom' } } },
    }]),
  };
}

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
