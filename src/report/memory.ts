// The memory experiment's report (memory.json, schema eventbench.memory/1): a table of bytes per connection per
// server with r, the connections each would hold within the budget (extrapolated), where each stopped, a figure
// of memory against connections held (figures.ts), and the paper's claim (events use less memory per connection
// than threads) stated as confirmed or refuted by what was measured. Pure: the stored run in, text out. Shown in
// report.html when the run folder holds memory.json, and on a page of its own (memory.html).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ResultsError } from '../core/errors.js';
import { MEMORY_FILE, type MemoryRun, type MemoryServer } from '../sweep/schema.js';
import { MIN_MEMORY_R } from '../experiments/memory.js';
import { readMemory } from '../sweep/store.js';
import { findModel, type ConnectionKind } from '../servers/registry.js';
import { bytesText, groupDigits, markdownTable, type Cell, type Table } from './tables.js';
import { median } from '../core/numbers.js';

/**
 * Which side of the claim each way of holding a connection is on (the model declares its kind, src/servers/types.ts):
 * an event loop's record ('events'), a kernel thread or process, own or of a pool ('threads'), or a user-space
 * thread or continuation ('user threads', neither side).
 */
const CLAIM_SIDE: Readonly<Record<ConnectionKind, 'events' | 'threads' | 'user threads'>> = {
  event: 'events', thread: 'threads', process: 'threads', pool: 'threads', 'user-thread': 'user threads',
};

/** The claim's side of a measured server, from its model (a runtime variant's is its model's); undefined when unknown. */
export function claimSide(server: string): 'events' | 'threads' | 'user threads' | undefined {
  const model = findModel(server);
  return model ? CLAIM_SIDE[model.connection] : undefined;
}

/** memory.json of a folder, through the one reader of results folders; says what to run when there is none. */
export function readMemoryRun(dir: string): MemoryRun {
  const file = path.join(dir, MEMORY_FILE);
  if (!existsSync(file)) throw new ResultsError(`${file} does not exist; run \`eventbench memory --out ${dir}\` first`);
  return readMemory(dir);
}

/** The paper's claim against the measured servers: the median bytes per connection of each side. */
export function memoryClaim(run: MemoryRun): { verdict: 'confirmed' | 'refuted' | 'not testable here'; text: string } {
  const side = (kind: string) => run.servers.filter((s) => s.measurable && claimSide(s.server) === kind).map((s) => s.fit!.bytesPerConnection);
  const medianOf = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const events = medianOf(side('events'));
  const threads = medianOf(side('threads'));
  const claim = 'The paper: events use less memory per connection than threads.';
  if (events === undefined || threads === undefined) {
    return { verdict: 'not testable here', text: `${claim} Not testable here: ${events === undefined ? 'no event server' : 'no thread or process server'} had a measurable cost per connection.` };
  }
  const verdict = events < threads ? 'confirmed' : 'refuted';
  return { verdict, text: `${claim} ${verdict === 'confirmed' ? 'Confirmed' : 'Refuted'} here: the median event server costs ${bytesText(events)} per connection (${side('events').length} servers), the median thread or process server ${bytesText(threads)} (${side('threads').length}).` };
}

/** One server's row: its cost per connection (or why none), r, PSS or RSS, how far it got and why it stopped. */
function row(s: MemoryServer): Cell[] {
  const last = s.levels.at(-1);
  const held = last ? last.acceptedConnections ?? last.connections : null;
  const cost = s.status === 'failed' ? `failed: ${s.reason ?? ''}` : s.measurable ? bytesText(s.fit!.bytesPerConnection) : `not measurable here (${s.why ?? ''})`;
  const text = (t: string, value: string | number | null = t): Cell => ({ text: t, value });
  return [
    text(s.server), text(claimSide(s.server) ?? '—'),
    text(cost, s.measurable ? Math.round(s.fit!.bytesPerConnection) : null),
    text(s.fit?.r === null || s.fit === undefined ? '—' : s.fit.r.toFixed(3), s.fit?.r ?? null),
    text(s.fit ? bytesText(s.fit.interceptBytes) : '—', s.fit ? Math.round(s.fit.interceptBytes) : null),
    text(held === null ? '—' : groupDigits(held), held), text(last?.measure ?? '—', last?.measure ?? null),
    text(s.connectionsInBudget ? `${groupDigits(s.connectionsInBudget.connections)} (extrapolated)` : '—',
      s.connectionsInBudget?.connections ?? null),
    text(s.stopped ? `at ${groupDigits(s.stopped.connections)}: ${s.stopped.why}` : '—',
      s.stopped ? `${s.stopped.connections}: ${s.stopped.why}` : null),
  ];
}

/** The memory experiment's table: bytes per connection of each server, with r and the measure (PSS or RSS). */
export function memoryTable(run: MemoryRun): Table {
  return {
    name: 'memory',
    title: `Memory per connection${run.quick ? ' (--quick)' : ''}: idle connections held open`,
    columns: ['server', 'kind', 'bytes/connection', 'r', 'at 0 connections', 'most held', 'measure',
      `connections in ${bytesText(run.budgetBytes)}`, 'stopped'],
    csvColumns: ['server', 'kind', 'bytes_per_connection', 'r', 'intercept_bytes', 'most_held', 'measure', 'connections_in_budget',
      'stopped'],
    numeric: [false, false, true, true, true, true, false, true, false],
    rows: run.servers.map(row),
  };
}

/** What was measured, in one paragraph (the report and memory.html both say it). */
export function memoryMethod(run: MemoryRun): string {
  return `Idle connections that sent a partial request head, held at ${run.levels.join(', ')}; memory of the server's process tree once `
    + 'settled (PSS for several processes, RSS for one). Bytes per connection is the least-squares slope, r its correlation; '
    + `r < ${MIN_MEMORY_R} or a slope not above 0 is not measurable here. Connections within the budget are extrapolated from the fit, `
    + 'never measured.';
}

/** The table and the claim as Markdown. */
export function memoryMarkdown(run: MemoryRun): string {
  const table = memoryTable(run);
  return [`## ${table.title}`, '', memoryMethod(run), '', markdownTable(table), '', memoryClaim(run).text, ''].join('\n');
}

/** Writes memory.md, fig-memory.svg and memory.html beside memory.json; returns the HTML page's path. */
export async function writeMemoryReport(dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const { memoryFigure, renderSvg } = await import('./figures.js');
  const { memoryPageHtml } = await import('./html.js');
  const run = readMemoryRun(dir);
  const svg = await renderSvg(memoryFigure(run, 'wide').spec, 'fig-memory');
  await writeFile(path.join(dir, 'memory.md'), memoryMarkdown(run));
  await writeFile(path.join(dir, 'fig-memory.svg'), svg);
  const page = path.join(dir, 'memory.html');
  await writeFile(page, memoryPageHtml(run, svg));
  return page;
}
