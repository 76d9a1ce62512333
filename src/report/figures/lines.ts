// A line per server against the offered load, and what the captions say of the points a figure cannot draw: the
// figures of the closed loop (measured load, throughput, tail, memory under load, fairness) are each one of these.
import type { ServerSummary } from '../../analysis/summary.js';
import { fixed } from '../../core/format.js';
import { serverText } from '../tables.js';
import { colour, frame, loadAxis, MARK, SIZE, type Figure, type Layout } from './frame.js';

/** What a figure draws of one load of a server; null: nothing (no value, never a 0). */
export type Pick = (lp: ServerSummary['loads'][number]) => number | null;

/** What every closed-loop figure draws from: the servers with points, their plain legend names, the layout. */
export interface Closed {
  layout: Layout;
  servers: ServerSummary[];
  plain: Map<string, string>;
  columns: number;
  x: ReturnType<typeof loadAxis>;
}

export function closedOf(servers: readonly ServerSummary[], layout: Layout): Closed {
  const drawn = servers.filter((s) => s.loads.length > 0);
  return {
    layout,
    servers: drawn,
    plain: new Map(drawn.map((s) => [s.server, serverText(s)])),
    columns: SIZE[layout].columns,
    x: loadAxis(layout),
  };
}

/**
 * Lines through the points of every server, y from `pick` (null: left out); `keys` maps a server to its legend
 * label. Lines only, the eye reads the values off their corners; a server with a single value has nothing to draw a
 * line through, so it alone gets a dot.
 */
export function perServerLines(
  layout: Layout,
  servers: ServerSummary[],
  keys: Map<string, string>,
  pick: Pick,
  yTitle: string,
  legendTitle: string,
  columns: number,
  yScale?: object,
): object[] {
  const values = servers.flatMap((s) =>
    s.loads.map((lp) => ({ key: keys.get(s.server)!, load: lp.load, y: pick(lp) })).filter((v) => v.y !== null),
  );
  const lonely = values.filter((v) => values.filter((w) => w.key === v.key).length === 1);
  const encoding = {
    x: loadAxis(layout),
    y: { field: 'y', type: 'quantitative', title: yTitle, ...(yScale ? { scale: yScale } : {}) },
    color: colour(
      servers.map((s) => keys.get(s.server)!),
      legendTitle,
      columns,
      layout === 'narrow',
    ),
  };
  const line = {
    name: MARK.data,
    data: { values: values.filter((v) => !lonely.includes(v)) },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding,
  };
  if (lonely.length === 0) return [line];
  return [
    line,
    { data: { values: lonely }, mark: { type: 'point', filled: true, size: layout === 'wide' ? 36 : 20, clip: true }, encoding },
  ];
}

/** A figure of one line per server: throughput, tail latency and memory differ only in what they pick and say. */
export function lineFigure(
  { layout, servers, plain, columns }: Closed,
  f: { name: string; title: string; heading?: string; subtitle: string; caption: string; pick: Pick; yTitle: string; yScale?: object },
  only: ServerSummary[] = servers,
): Figure {
  return {
    name: f.name,
    title: f.title,
    caption: f.caption,
    spec: frame(
      layout,
      f.heading ?? f.title,
      f.subtitle,
      perServerLines(layout, only, plain, f.pick, f.yTitle, 'server', columns, f.yScale),
    ),
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
export function clipSentence(top: number | undefined, clipped: readonly string[], where: string): string {
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
