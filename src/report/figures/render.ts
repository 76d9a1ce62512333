// Vega-Lite specifications drawn to SVG in Node: no browser, no canvas (Vega's headless renderer), with the text
// widths of the font the page will show, so that legends and titles are laid out as they will be seen.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Text widths, em per character, of DejaVu Sans (what `system-ui` is on Debian, and wider than the sans faces of
 * macOS or Windows): Vega lays out legends and titles by these. Without a canvas Vega guesses 0.8 em for every
 * character, half again too wide, and Figure 2's legend then made its drawing twice the page's width, shrunk
 * to a 7 px font. Characters not listed count as a lowercase letter.
 */
const EM: [RegExp, number][] = [
  [/[ il.,:;|/·'!IJj]/, 0.32],
  [/[frt()[\]-]/, 0.4],
  [/[mw%@MW]/, 0.95],
  [/[=≈×+<>#~]/, 0.84],
  [/[A-Z]/, 0.72],
  [/[0-9]/, 0.64],
  [/[–_]/, 0.5],
];

/** The width Vega should give `text` in `item`'s font, px (a custom textMetrics.width, as vl-convert sets one). */
function textWidth(item: { fontSize?: number; fontWeight?: string | number; limit?: number }, text: unknown): number {
  const line = text === null || text === undefined ? '' : String(text).trim();
  let em = 0;
  for (const c of line) em += EM.find(([re]) => re.test(c))?.[1] ?? 0.61;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? 1.1 : 1;
  const width = em * (item.fontSize ?? 11) * bold;
  return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
}
(vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;

/**
 * Compiles a Vega-Lite spec and renders it to an SVG document, headless. The libraries' own warnings are kept
 * off the terminal (only the CLI prints). `idPrefix` makes the SVG's ids (clip paths) unique when several
 * figures sit inline in one page.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix = ''): Promise<string> {
  const compiled = compile(spec, { logger: vega.logger(vega.None) });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', logLevel: vega.None });
  try {
    const svg = await view.toSVG();
    return idPrefix ? svg.replace(/\bid="([^"]+)"/g, `id="${idPrefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`) : svg;
  } finally {
    view.finalize();
  }
}
