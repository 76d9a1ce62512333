// The report's figures, as Vega-Lite specifications built from the model (one file per figure, what they share in
// frame.ts and lines.ts) and drawn to SVG by render.ts. Every figure colours a server the same way, in ranking order.
import type { ReportModel } from '../model.js';
import { fairnessFigure } from './fairness.js';
import type { Figure, Layout } from './frame.js';
import { latencyCdfFigure } from './latency-cdf.js';
import { closedOf } from './lines.js';
import { measuredLoadFigure } from './measured-load.js';
import { memoryFigure } from './memory.js';
import { memoryUnderLoadFigure } from './memory-under-load.js';
import { openLoopFigure } from './open-loop.js';
import { p99Figure } from './p99.js';
import { runtimeFigures } from './runtimes.js';
import { servingTimeFigure } from './serving-time.js';
import { throughputFigure } from './throughput.js';

export { MARK, type Figure, type Layout } from './frame.js';
export { cdfLoad } from './latency-cdf.js';
export { notDrawn, readableTop } from './lines.js';
export { memoryFigure } from './memory.js';
export { renderSvg } from './render.js';
export { runtimeFigures } from './runtimes.js';

/** Every figure of the model, in page order; those without data (no memory sampled, no open loop) left out. */
export function figures(model: ReportModel, layout: Layout = 'wide'): Figure[] {
  const c = closedOf(model.servers, layout);
  const out: (Figure | undefined)[] = [
    measuredLoadFigure(c),
    servingTimeFigure(c),
    throughputFigure(c),
    p99Figure(c),
    memoryUnderLoadFigure(c),
    latencyCdfFigure(c.servers, layout),
    fairnessFigure(c.servers, layout),
  ];
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
  return out.filter((f): f is Figure => f !== undefined);
}
