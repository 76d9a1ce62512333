// The paper's Figure 2, as numbers: each row's slope of mean serving time against offered load, read off the
// thesis figures (ms per client, on the 600 MHz Pentium-M server of the paper's appendix A).

export interface PaperRow {
  /** The row's name, as Point.paperRow spells it. */
  row: string;
  /** Slope, ms per client (smaller is faster). */
  slopeMs: number;
  /** The concurrency model of the paper's server. */
  style: 'events' | 'user threads' | 'kernel threads' | 'processes' | 'pools';
}

/** Fastest first, as in the paper's Figure 2. */
export const PAPER_ROWS: readonly PaperRow[] = [
  { row: 'ST', slopeMs: 0.158, style: 'user threads' },
  { row: 'CPC', slopeMs: 0.197, style: 'events' },
  { row: 'lighttpd', slopeMs: 0.242, style: 'events' },
  { row: 'Pth', slopeMs: 0.273, style: 'user threads' },
  { row: 'Polipo', slopeMs: 0.273, style: 'events' },
  { row: 'NPTL', slopeMs: 0.281, style: 'kernel threads' },
  { row: 'thttpd', slopeMs: 0.323, style: 'events' },
  { row: 'Apache', slopeMs: 0.52, style: 'pools' },
  { row: 'fork', slopeMs: 0.705, style: 'processes' },
];

/** The common reference both then and now: two machines of different speed compare through it. */
export const REFERENCE_ROW = 'lighttpd';

export function paperRow(name: string | undefined): PaperRow | undefined {
  return name === undefined ? undefined : PAPER_ROWS.find((r) => r.row.toLowerCase() === name.toLowerCase());
}
