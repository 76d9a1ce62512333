// Beyond the paper: the peak resident memory of each server's process tree during each point of the closed loop,
// what it held under load (not a cost per connection: figures/memory.ts draws that, from the memory experiment).
import type { Figure } from './frame.js';
import { lineFigure, type Closed } from './lines.js';

/** Peak memory under load, for the servers whose points sampled it (none: no figure). */
export function memoryUnderLoadFigure(c: Closed): Figure | undefined {
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
