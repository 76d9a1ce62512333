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

/** Attributes that place a shape: their numbers are kept to a tenth of a pixel, what a screen can show. */
const PLACING = / (transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g;

/** What a static drawing has no use for: hit areas and hidden layers drawn for pointer events, defaults said again. */
const UNSEEN = [
  /<path class="(background|foreground)" d="[^"]*"( pointer-events="none")?( display="none")?( opacity="1")?\/>/g,
  / pointer-events="none"/g,
  / opacity="1"/g,
];

/** The class names a reader of the drawing looks for (the browser tests): legend labels, and the named marks. */
const KEPT_CLASS = /\b(role-legend-label|\w+_marks)\b/;

/** The font size most texts have, said once on the root; the others keep their own. */
function hoistFontSize(svg: string): string {
  const sizes = new Map<string, number>();
  for (const [, size] of svg.matchAll(/ font-size="([^"]*)"/g)) sizes.set(size!, (sizes.get(size!) ?? 0) + 1);
  const common = [...sizes].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (common === undefined) return svg;
  return svg.replaceAll(` font-size="${common}"`, '').replace(/^<svg /, `<svg font-size="${common}" `);
}

/**
 * The drawing as light as the eye allows: coordinates to a tenth of a pixel, the font and its commonest size said
 * once on the root (every text inherits them), no ARIA roles on the marks inside (the page's title and caption
 * describe the figure), no class a page does not use, and nothing drawn only for pointer events (a page shows the
 * drawing, nobody points at it).
 */
export function lighten(svg: string): string {
  const font = / font-family="([^"]*)"/.exec(svg)?.[1];
  const tenth = (n: string) => String(Math.round(Number(n) * 10) / 10);
  const light = UNSEEN.reduce((text, re) => text.replace(re, ''), svg.replace(/ (role|aria-[a-z]+)="[^"]*"/g, ''))
    .replace(/ font-family="[^"]*"/g, '')
    .replace(/ text-anchor="start"/g, '')
    .replace(/ class="([^"]*)"/g, (all, names: string) => (all.startsWith(' class="marks"') ? all : keptClass(names)))
    .replace(PLACING, (_, name: string, value: string) => ` ${name}="${value.replace(/-?\d+\.\d{2,}/g, tenth)}"`);
  return hoistFontSize(font ? light.replace(/^<svg /, `<svg font-family="${font}" `) : light);
}

const keptClass = (names: string): string => {
  const kept = names.split(' ').filter((n) => KEPT_CLASS.test(n));
  return kept.length > 0 ? ` class="${kept.join(' ')}"` : '';
};

/**
 * Compiles a Vega-Lite spec and renders it to an SVG document, headless, lightened. The libraries' own warnings
 * are kept off the terminal (only the CLI prints). `idPrefix` makes the SVG's ids (clip paths) unique when several
 * figures sit inline in one page.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix = ''): Promise<string> {
  const compiled = compile(spec, { logger: vega.logger(vega.None) });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', logLevel: vega.None });
  try {
    const svg = lighten(await view.toSVG());
    return idPrefix ? svg.replace(/\bid="([^"]+)"/g, `id="${idPrefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`) : svg;
  } finally {
    view.finalize();
  }
}
