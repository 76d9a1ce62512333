// Beyond the paper: the 99th percentile of serving time against the offered load, its axis stopped where a few
// servers' seconds would flatten the others.
import type { Figure } from './frame.js';
import { clipSentence, lineFigure, notDrawn, readableTop, type Closed, type Pick } from './lines.js';

export function p99Figure(c: Closed): Figure {
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
