// Beyond the paper: requests served per second of each point's kept window, against the offered load.
import type { Figure } from './frame.js';
import { lineFigure, notDrawn, type Closed, type Pick } from './lines.js';

export function throughputFigure(c: Closed): Figure {
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
