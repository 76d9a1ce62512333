// One concurrency model, three runtimes (src/report/runtimes.ts): each TypeScript model's slope, a bar per runtime.
import type { TopLevelSpec } from 'vega-lite';
import { RUNTIMES } from '../../servers/runtime.js';
import type { ReportModel } from '../model.js';
import { runtimeComparison } from '../runtimes.js';
import type { Figure, Layout } from './frame.js';

/** The figure: each model's slope, one bar per runtime, or none for a Node-only run. */
export function runtimeFigures(model: ReportModel, layout: Layout): Figure[] {
  const c = runtimeComparison(model);
  if (!c) return [];
  const values = c.rows.flatMap((row) =>
    c.runtimes.filter((r) => row.cells[r]?.slopeMs != null).map((r) => ({ model: row.model, runtime: r, slope: row.cells[r]!.slopeMs })),
  );
  const wide = layout === 'wide';
  const font = wide ? 12 : 11;
  const title = 'Runtimes × models: slope of each model under each runtime';
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(wide ? { title: { text: title, subtitle: 'mean serving time per extra client, ms; smaller is faster', anchor: 'start' } } : {}),
    background: 'white',
    // The other figures' type sizes (Vega's defaults are 10 and 11 px).
    config: { axis: { labelFontSize: font, titleFontSize: font }, legend: { labelFontSize: font, titleFontSize: font } },
    data: { values },
    width: wide ? 520 : 200,
    height: { step: wide ? 10 : 8 },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'model', type: 'nominal', title: null },
      yOffset: { field: 'runtime', type: 'nominal', sort: [...RUNTIMES] },
      x: { field: 'slope', type: 'quantitative', title: 'slope (ms per client)' },
      color: {
        field: 'runtime',
        type: 'nominal',
        sort: [...RUNTIMES],
        scale: { domain: [...RUNTIMES], range: ['#59a14f', '#f28e2b', '#4e79a7'] },
        legend: { orient: wide ? 'right' : 'bottom' },
      },
    },
  } as unknown as TopLevelSpec;
  return [
    {
      name: 'fig-runtimes',
      title,
      caption: `Each TypeScript model under each runtime that runs it: the bar is its slope (smaller is faster). ${c.fastest.join('; ')}`,
      spec,
    },
  ];
}
