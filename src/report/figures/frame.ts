// What every figure shares: its record (name, title, caption, Vega-Lite spec), the two layouts (a laptop's column,
// a phone), the palette that gives a server the same colour in every figure, the frame (size, fonts, title) and
// the colour scale with its legend. Vega-Lite specifications only: figures/render.ts draws them.
import type { TopLevelSpec } from 'vega-lite';

export interface Figure {
  /** File name stem: "fig1-measured-load". */
  name: string;
  title: string;
  /** What to read in it, one or two sentences under the figure. */
  caption: string;
  spec: TopLevelSpec;
}

// Tableau 10, then its lighter companions: distinct on a white page, and a server keeps its colour in every figure.
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1f4e79',
  '#a0522d',
  '#8b0000',
  '#2f7f7a',
  '#2e6b2e',
  '#a68a00',
  '#6b3f66',
  '#c4506a',
  '#5e4331',
  '#6e6e6e',
];

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/** Wide: a laptop's column and the SVG files. Narrow: a phone held upright (drawn at its size, so text stays legible). */
export type Layout = 'wide' | 'narrow';
/** Wide: half the column of a laptop's page, two figures abreast (Figure 2 alone spans it, at its own size). */
export const SIZE = {
  wide: { width: 460, height: 280, columns: 3, font: 12 },
  narrow: { width: 290, height: 220, columns: 2, font: 11 },
} as const;

/** Mark names the browser test looks for: one path per server in each. */
export const MARK = { data: 'serverlines', fit: 'fitlines' } as const;

/** Multi-line legend labels: the label text carries '|' where the narrow layout breaks the line. */
export const BREAK = '|';

/** The colour of each legend key in `domain` order, and the legend under the plot (`columns` wide). */
export function colour(domain: string[], legendTitle: string, columns: number, breakLines = false) {
  return {
    field: 'key',
    type: 'nominal' as const,
    sort: domain,
    scale: { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]!) },
    legend: {
      title: legendTitle,
      orient: 'bottom' as const,
      direction: 'vertical' as const,
      columns,
      labelLimit: 0,
      titleLimit: 0,
      symbolType: 'stroke',
      symbolStrokeWidth: 3,
      labelExpr: breakLines ? `split(datum.label, '${BREAK}')` : `replace(datum.label, /[${BREAK}]/g, ', ')`,
    },
  };
}

/** The figure's frame: size for the layout (`wide` overrides the laptop's), fonts, title (wide only), layers. */
export function frame(
  layout: Layout,
  title: string,
  subtitle: string,
  layer: unknown[],
  wide?: { width: number; height: number },
): TopLevelSpec {
  const size = { ...SIZE[layout], ...(layout === 'wide' ? wide : {}) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    // Narrow: the page gives the title above the drawing (Vega sizes a title by estimate, too wide for a phone).
    ...(layout === 'wide'
      ? { title: { text: title, subtitle, anchor: 'start', fontSize: size.font + 3, subtitleFontSize: size.font, subtitleColor: '#555' } }
      : {}),
    width: size.width,
    height: size.height,
    background: 'white',
    config: config(size.font),
    layer,
  } as TopLevelSpec;
}

/** The font and its sizes, and no ARIA description of every mark (the page's caption and title describe each figure). */
export const config = (font: number) => ({
  font: FONT,
  aria: false,
  axis: { labelFontSize: font, titleFontSize: font, gridColor: '#e6e6e6' },
  legend: { labelFontSize: font, titleFontSize: font },
});

export const loadAxis = (layout: Layout) => ({
  field: 'load',
  type: 'quantitative' as const,
  scale: { zero: true },
  title: layout === 'wide' ? 'offered load l (simultaneous clients)' : 'offered load l',
});
