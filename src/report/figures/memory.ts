// The memory experiment (memory.json): memory of the server's process tree against idle connections held, one
// line per server, log y (a few MiB to GiB); the legend gives each one's slope, its cost per connection.
import { bytesText, fixed } from '../../core/format.js';
import type { MemoryRun } from '../../experiments/memory.js';
import { BREAK, colour, frame, type Figure, type Layout } from './frame.js';

/** `order` puts the servers in the report's order, so each keeps its colour. */
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
        mark: { type: 'line', strokeWidth: 2 },
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
