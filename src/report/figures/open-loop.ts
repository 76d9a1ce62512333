// The open loop (src/report/open-loop.ts): p99 (solid) and p50 (dashed) against offered rate, log y, one colour a server.
import type { ReportModel } from '../model.js';
import { colour, frame, MARK, SIZE, type Figure, type Layout } from './frame.js';

export function openLoopFigure(model: ReportModel, layout: Layout): Figure {
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
