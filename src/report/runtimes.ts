// One concurrency model, three runtimes: the report's runtime × model table and figure. A server named
// `events@bun` is the model `events` under Bun (src/servers/runtime.ts), a plain name is the model under Node,
// and `bun-serve`/`deno-serve` are each runtime's own server, shown on a row of their own. Each cell is the model's
// slope under that runtime (ms per client; smaller is faster) and its ratio to the run's reference server.
// The same table, with req/s instead of slopes, is what `npm run bench:runtimes` prints.
import type { ReportModel } from './model.js';
import { overlaps, type Interval } from '../core/intervals.js';
import { fixed, intervalText, ratioText } from '../core/format.js';
import { RUNTIMES, splitRuntime, type RuntimeName } from '../servers/runtime.js';

/** The row a runtime's own server sits on, and the runtime it is. */
const OWN_SERVERS: Record<string, RuntimeName> = { 'bun-serve': 'bun', 'deno-serve': 'deno' };
const OWN_ROW = "the runtime's own server";

/** Where a server sits in the table: its model (row) and runtime (column). */
export function cellOf(server: string): { model: string; runtime: RuntimeName } {
  if (OWN_SERVERS[server]) return { model: OWN_ROW, runtime: OWN_SERVERS[server]! };
  const { model, runtime } = splitRuntime(server);
  return { model, runtime: runtime ?? 'node' };
}

/** One measured server of the bench: req/s (higher is faster) and its ratio to the reference. */
export interface RuntimeCell {
  server: string;
  rps?: number;
  ratio?: number;
  note: string;
}

/** The bench's table: one row per model, one column per runtime, "req/s (ratio×)"; then what failed and why. */
export function runtimeTable(cells: readonly RuntimeCell[], ratioLabel: string): string {
  const rows = [...new Set(cells.map((c) => cellOf(c.server).model))];
  const text = (c?: RuntimeCell) =>
    !c ? '' : c.rps === undefined ? '—' : `${fixed(c.rps, 0)} (${c.ratio === undefined ? '?' : fixed(c.ratio, 2)}×)${c.note ? ' *' : ''}`;
  const table = [['model', ...RUNTIMES.map((r) => `${r}: req/s (${ratioLabel})`)]];
  for (const row of rows)
    table.push([row, ...RUNTIMES.map((r) => text(cells.find((c) => cellOf(c.server).model === row && cellOf(c.server).runtime === r)))]);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  const lines = table.map((t) => t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  const notes = cells.filter((c) => c.note).map((c) => `  ${c.server}: ${c.note}`);
  for (const row of rows) {
    const measured = cells.filter((c) => cellOf(c.server).model === row && c.rps !== undefined).sort((a, b) => b.rps! - a.rps!);
    const best = measured.length > 1 ? measured[0] : undefined;
    if (best && row !== OWN_ROW) notes.push(`  fastest for ${row}: ${cellOf(best.server).runtime}`);
  }
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** A model under one runtime: its slope and its ratio to the run's reference, each with its 95% interval. */
export interface RuntimeSlot {
  server: string;
  slopeMs: number | null;
  slopeCi: Interval | null;
  ratio: Interval | null;
}

export interface RuntimeComparison {
  runtimes: RuntimeName[];
  rows: { model: string; cells: Partial<Record<RuntimeName, RuntimeSlot>> }[];
  /**
   * One per model run under two runtimes or more: "events: fastest under deno (0.21 ms/client; node 0.25, bun
   * 0.26)", or "async: deno and node tied (intervals overlap)..." when the fastest is not told apart.
   */
  fastest: string[];
}

/** The comparison of a run, or null when no server ran under Bun or Deno (a Node-only run shows no such table). */
export function runtimeComparison(model: ReportModel): RuntimeComparison | null {
  const servers = model.servers.filter((s) => s.family === 'typescript');
  if (!servers.some((s) => cellOf(s.server).runtime !== 'node')) return null;
  const rows: RuntimeComparison['rows'] = [];
  for (const s of servers) {
    const { model: m, runtime } = cellOf(s.server);
    let row = rows.find((r) => r.model === m);
    if (!row) {
      row = { model: m, cells: {} };
      rows.push(row);
    }
    row.cells[runtime] = {
      server: s.server,
      slopeMs: s.latencyFit && s.latencyFit.slope > 0 ? s.latencyFit.slope : null,
      slopeCi: s.slopeCi,
      ratio: s.ratio,
    };
  }
  const runtimes = RUNTIMES.filter((r) => rows.some((row) => row.cells[r]));
  const fastest: string[] = [];
  for (const row of rows) {
    const fitted = runtimes.filter((r) => row.cells[r]?.slopeMs != null).sort((a, b) => row.cells[a]!.slopeMs! - row.cells[b]!.slopeMs!);
    if (fitted.length < 2) continue;
    const [best, ...rest] = fitted;
    const at = (r: RuntimeName) => row.cells[r]!;
    // Runtimes whose ratio interval overlaps the fastest one's are not told apart from it (the ratios pair rounds).
    const tied = rest.filter((r) => at(best!).ratio && at(r).ratio && overlaps(at(best!).ratio!, at(r).ratio!));
    const slopes = `${fixed(at(best!).slopeMs, 3)} ms/client; ${rest.map((r) => `${r} ${fixed(at(r).slopeMs, 3)}`).join(', ')}`;
    fastest.push(
      tied.length === 0
        ? `${row.model}: fastest under ${best} (${slopes})`
        : `${row.model}: ${[best, ...tied].join(' and ')} tied, their ratio intervals overlap (${slopes})`,
    );
  }
  return { runtimes, rows, fastest };
}

/** The table as rows of text cells: model, then per runtime "slope [interval] ms/client (ratio [interval]×)". */
export function comparisonCells(c: RuntimeComparison, reference: string | null): { columns: string[]; rows: string[][] } {
  const cell = (x?: RuntimeSlot) =>
    !x
      ? ''
      : x.slopeMs === null
        ? 'no fit'
        : `${x.slopeCi ? intervalText(x.slopeCi, 3) : fixed(x.slopeMs, 3)}${x.ratio ? ` (${ratioText(x.ratio)})` : ''}`;
  return {
    columns: ['model', ...c.runtimes.map((r) => `${r}: ms/client (÷ ${reference ?? 'reference'})`)],
    rows: c.rows.map((row) => [row.model, ...c.runtimes.map((r) => cell(row.cells[r]))]),
  };
}

/** The markdown section, or nothing for a Node-only run. */
export function runtimesMarkdown(model: ReportModel): string[] {
  const c = runtimeComparison(model);
  if (!c) return [];
  const { columns, rows } = comparisonCells(c, model.ratioReference.server);
  const md = (cells: string[]) => `| ${cells.map((x) => x.replaceAll('|', '\\|')).join(' | ')} |`;
  return [
    '## Runtimes × models',
    '',
    `Each TypeScript model's slope under each runtime (smaller is faster), and its ratio to ${model.ratioReference.server ?? 'the reference'}'s slope. ${runtimeVersions(model)}`,
    '',
    md(columns),
    `| --- |${c.runtimes.map(() => ' ---: |').join('')}`,
    ...rows.map(md),
    '',
    ...c.fastest.map((f) => `- ${f}`),
    '',
  ];
}

function runtimeVersions(model: ReportModel): string {
  const v = model.plan.runtimes;
  return v
    ? `Versions: ${Object.entries(v)
        .map(([r, x]) => `${r} ${x}`)
        .join(', ')}.`
    : '';
}
