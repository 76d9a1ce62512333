// The short ranking printed at the end of a run: the paper's measure, the slope of mean serving time against
// offered load (a smaller slope is a faster server), fitted by least squares over each server's measured points.
import type { Point } from './schema.js';

export interface RankRow {
  server: string;
  /** Milliseconds of mean latency added per extra client; about 1000 / throughput once the server saturates. */
  slopeMsPerClient: number;
  /** Best kept-window throughput over the server's points, requests/s. */
  peakRps: number;
  /** Highest load measured without failure. */
  maxLoad: number;
  failed: number;
  stopped?: string;
}

export function rank(points: readonly Point[]): RankRow[] {
  const by = new Map<string, Point[]>();
  for (const p of points) by.set(p.server, [...(by.get(p.server) ?? []), p]);
  const rows: RankRow[] = [];
  for (const [server, ps] of by) {
    const ok = ps.filter((p) => p.status === 'ok' && p.result && p.result.requests > 0);
    const xs = ok.map((p) => p.load);
    const ys = ok.map((p) => p.result!.latencyMs.mean);
    rows.push({
      server,
      slopeMsPerClient: slope(xs, ys),
      peakRps: Math.max(0, ...ok.map((p) => p.result!.throughputRps)),
      maxLoad: Math.max(0, ...xs),
      failed: ps.length - ok.length,
      ...(ps.find((p) => p.stopped)?.stopped ? { stopped: ps.find((p) => p.stopped)!.stopped! } : {}),
    });
  }
  // Servers with no usable point go last.
  return rows.sort((a, b) => (Number.isFinite(a.slopeMsPerClient) ? a.slopeMsPerClient : Infinity) - (Number.isFinite(b.slopeMsPerClient) ? b.slopeMsPerClient : Infinity));
}

function slope(xs: number[], ys: number[]): number {
  if (xs.length === 0) return NaN;
  if (xs.length === 1) return ys[0]! / xs[0]!;
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0, den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? my / mx : num / den;
}

/** The ranking as text lines, for the terminal. */
export function rankingText(rows: readonly RankRow[]): string[] {
  const width = Math.max(6, ...rows.map((r) => r.server.length));
  const lines = [`${'#'.padStart(3)}  ${'server'.padEnd(width)}  ms/client  peak req/s  max load  notes`];
  rows.forEach((r, i) => {
    const notes = [r.failed ? `${r.failed} failed` : '', r.stopped ? `stopped: ${r.stopped}` : ''].filter(Boolean).join('; ');
    lines.push(`${String(i + 1).padStart(3)}  ${r.server.padEnd(width)}  ${(Number.isFinite(r.slopeMsPerClient) ? r.slopeMsPerClient.toFixed(3) : '-').padStart(9)}  ${r.peakRps.toFixed(0).padStart(10)}  ${String(r.maxLoad).padStart(8)}  ${notes}`);
  });
  return lines;
}
