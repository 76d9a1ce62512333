// The paper's Figure 2, as numbers: each row's slope of mean serving time against offered load, read off the
// thesis figures (ms per client, on the 600 MHz Pentium-M server of the paper's appendix A). Beside them, today's
// answers to the rows whose ideas went mainstream (user-space threads as goroutines, CPC's continuations as C++20
// coroutines and async functions), and the row the paper could not have had: completion-based I/O (io_uring).

/** How a row's server waits for many clients; 'completion' (io_uring) came after the paper. */
export type PaperStyle = 'events' | 'user threads' | 'kernel threads' | 'processes' | 'pools' | 'completion';

export interface PaperRow {
  /** The row's name, as Point.paperRow spells it. */
  row: string;
  /** Slope, ms per client (smaller is faster). */
  slopeMs: number;
  /** The concurrency model of the paper's server. */
  style: PaperStyle;
  /** Today's answer to the row, where its idea has a mainstream heir, and the built-in models that ask it. */
  today?: string;
}

/** A row the paper did not have: no slope of the paper's to compare with, only today's servers. */
export interface NewRow extends Omit<PaperRow, 'slopeMs'> {
  slopeMs?: undefined;
  today: string;
}

const GOROUTINES =
  "goroutines: Go's M:N scheduler parks a goroutine that would block in its netpoller (epoll), as ST parks a thread " +
  "(go-nethttp, Go's net/http; go-raw, the model without it)";
const CONTINUATIONS =
  "continuations made by the compiler: C++20 coroutines over native-epoll's loop (native-coro); " +
  'JavaScript async functions (async, async-compiled)';

/** Fastest first, as in the paper's Figure 2. */
export const PAPER_ROWS: readonly PaperRow[] = [
  { row: 'ST', slopeMs: 0.158, style: 'user threads', today: GOROUTINES },
  { row: 'CPC', slopeMs: 0.197, style: 'events', today: CONTINUATIONS },
  { row: 'lighttpd', slopeMs: 0.242, style: 'events' },
  { row: 'Pth', slopeMs: 0.273, style: 'user threads', today: GOROUTINES },
  { row: 'Polipo', slopeMs: 0.273, style: 'events' },
  { row: 'NPTL', slopeMs: 0.281, style: 'kernel threads' },
  { row: 'thttpd', slopeMs: 0.323, style: 'events' },
  { row: 'Apache', slopeMs: 0.52, style: 'pools' },
  { row: 'fork', slopeMs: 0.705, style: 'processes' },
];

/** Rows after the paper. */
export const NEW_ROWS: readonly NewRow[] = [
  {
    row: 'completion',
    style: 'completion',
    today:
      'io_uring (Linux 5.1, 2019): the server submits accept, recv and send and reaps their completions; ' +
      'no readiness is polled (native-uring)',
  },
];

/** The common reference both then and now: two machines of different speed compare through it. */
export const REFERENCE_ROW = 'lighttpd';

/** The paper's row, or a row after it (no paper slope), by name. */
export function paperRow(name: string | undefined): PaperRow | NewRow | undefined {
  if (name === undefined) return undefined;
  return [...PAPER_ROWS, ...NEW_ROWS].find((r) => r.row.toLowerCase() === name.toLowerCase());
}
