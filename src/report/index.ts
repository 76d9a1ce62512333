// The report's public entry points: write report.html and the figures as SVG files into a run folder, or return
// the tables as Markdown, JSON or CSV text. Both read only the stored results (run.json, points.jsonl, and
// open-loop.jsonl and memory.json where a run has them).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { renderHtml, type RenderedFigure } from './html.js';
import { buildModel, type ReportModel } from './model.js';
import { readReportRun } from './read.js';
import { TABLE_NAMES, type TableName } from './tables.js';
import { renderCsv, renderJson, renderMarkdown } from './text.js';

export { buildModel, readReportRun, TABLE_NAMES };
export type { ReportModel, TableName };

export const REPORT_FILE = 'report.html';
/** What writing report.html is priced at within a run's budget, s (5 s measured for 23 servers, 3 rounds, on 2 busy cores). */
export const REPORT_PRICE_S = 10;
export const TEXT_FORMATS = ['md', 'json', 'csv'] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

export interface WriteReportOptions {
  /** Folder for report.html and the SVG files; the run folder by default. */
  outDir?: string;
  /** File name of the HTML page; report.html by default. */
  htmlName?: string;
  /** The server ratios divide by (default the run's --reference, else lighttpd, else native-epoll, else events). */
  reference?: string;
}

export interface WrittenReport {
  htmlPath: string;
  svgPaths: string[];
}

/** Every figure of the model, rendered to SVG twice: for a laptop's column and for a phone. */
export async function renderFigures(model: ReportModel): Promise<RenderedFigure[]> {
  // Loaded on first use: vega costs ~0.6 s of startup, which every `eventbench load` and `serve` would pay.
  const { figures, renderSvg } = await import('./figures/index.js');
  const narrow = figures(model, 'narrow');
  const out: RenderedFigure[] = [];
  for (const [i, figure] of figures(model, 'wide').entries()) {
    out.push({
      figure,
      svg: await renderSvg(figure.spec, `${figure.name}-wide`),
      narrowSvg: await renderSvg(narrow[i]!.spec, `${figure.name}-narrow`),
    });
  }
  return out;
}

/** The whole HTML report of a run folder, as a string (nothing written). */
export async function reportHtml(dir: string): Promise<string> {
  const model = buildModel(readReportRun(dir));
  return renderHtml(model, await renderFigures(model));
}

/** Writes report.html and fig*.svg for the run in `dir`; the runner calls it at the end of `eventbench run`. */
export async function writeReport(dir: string, options: WriteReportOptions = {}): Promise<WrittenReport> {
  const model = buildModel(readReportRun(dir), options);
  const rendered = await renderFigures(model);
  const outDir = options.outDir ?? dir;
  const svgPaths: string[] = [];
  for (const r of rendered) {
    const file = path.join(outDir, `${r.figure.name}.svg`);
    await writeFile(file, r.svg);
    svgPaths.push(file);
  }
  const htmlPath = path.join(outDir, options.htmlName ?? REPORT_FILE);
  await writeFile(htmlPath, renderHtml(model, rendered));
  // The memory experiment keeps its own page too (memory.md, memory.html), re-rendered beside its memory.json.
  if (model.memory) await (await import('./memory.js')).writeMemoryReport(dir);
  return { htmlPath, svgPaths };
}

export interface ReportTextOptions {
  format: TextFormat;
  /** For csv: which table (one CSV holds one table). */
  table?: TableName;
  /** The server ratios divide by (default the run's --reference, else lighttpd, else native-epoll, else events). */
  reference?: string;
}

/** The report of the run in `dir` as Markdown (every table), JSON (the whole model) or CSV (one table). */
export async function reportText(dir: string, options: ReportTextOptions): Promise<string> {
  if (!TEXT_FORMATS.includes(options.format)) throw new UsageError('format', options.format, `expected one of ${TEXT_FORMATS.join(', ')}`);
  const model = buildModel(readReportRun(dir), options.reference !== undefined ? { reference: options.reference } : {});
  if (options.format === 'md') return renderMarkdown(model);
  if (options.format === 'json') return renderJson(model);
  return renderCsv(model, options.table ?? 'ranking');
}
