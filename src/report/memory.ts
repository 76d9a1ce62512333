// The memory experiment's report (memory.json, schema eventbench.memory/2, /1 still read): a table of bytes per
// connection per server with r, in user space and in the kernel side by side (and their sum), the connections each
// would hold within the budget (extrapolated), where each stopped, a figure of memory against connections held
// (figures/memory.ts), and the paper's claim (memory-claim.ts) stated as confirmed or refuted by what was measured.
// Pure: the stored run in, text out. Shown in report.html when the run folder holds memory.json, and on a page of
// its own (memory.html).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ResultsError } from '../core/errors.js';
import { MEMORY_FILE, type MemoryRun, type MemoryServer } from '../results/schema.js';
import { MIN_MEMORY_R } from '../experiments/memory.js';
import { readMemory } from '../results/store.js';
import { markdownTable, type Cell, type Table } from './tables.js';
import { bytesText, fixed, groupDigits, rounded } from '../core/format.js';
import { claimSide, memoryClaim, totalBytesPerConnection } from './memory-claim.js';
import { escapeHtml, htmlTable, page } from './html-page.js';

/** memory.json of a folder, through the one reader of results folders; says what to run when there is none. */
export function readMemoryRun(dir: string): MemoryRun {
  const file = path.join(dir, MEMORY_FILE);
  if (!existsSync(file)) throw new ResultsError(`${file} does not exist; run \`eventbench memory --out ${dir}\` first`);
  return readMemory(dir);
}

/** "3.8 KiB (r 0.999, cgroup v1)", "not measurable here (...)", or "—" for a run from before the kernel was measured. */
function kernelText(s: MemoryServer): string {
  const k = s.kernel;
  if (!k) return '—';
  // Where it was read is said once under the table (kernelNote); only a host-wide figure says so in its cell.
  const where = k.source === 'host' ? ', host-wide' : '';
  if (!k.measurable) return `not measurable here (${k.why ?? ''}${where})`;
  return `${bytesText(k.fit!.bytesPerConnection)} (r ${fixed(k.fit!.r, 3)}${where})`;
}

const V1_FILES = 'cgroup v1: kmem and kmem.tcp';
const V2_FILES = 'cgroup v2: memory.stat kernel and sock';

/** What the kernel column is, for a run that measured it; '' for a run from before (eventbench.memory/1). */
export function kernelNote(run: MemoryRun): string {
  const sources = [...new Set(run.servers.flatMap((s) => (s.kernel ? [s.kernel.source] : [])))];
  if (sources.length === 0) return '';
  const how = sources.map((k) =>
    k === 'host'
      ? "host-wide, from /proc/meminfo (KernelStack + PageTables + Slab), as no memory cgroup could be made: it also counts the client's " +
        'own sockets and whatever else the host did, so it is not added to the user-space figure'
      : `from a memory cgroup made for the server's processes (${k === 'cgroup-v1' ? V1_FILES : V2_FILES})`,
  );
  return (
    "The kernel's memory, which PSS and RSS leave out (kernel stacks, page tables, sockets, epoll items), is fitted the same way " +
    `beside it, ${how.join('; or ')}.`
  );
}

/** One server's row: its cost per connection (or why none), r, PSS or RSS, how far it got and why it stopped. */
function row(s: MemoryServer): Cell[] {
  const last = s.levels.at(-1);
  const held = last ? (last.acceptedConnections ?? last.connections) : null;
  const cost =
    s.status === 'failed'
      ? `failed: ${s.reason ?? ''}`
      : s.measurable
        ? bytesText(s.fit!.bytesPerConnection)
        : `not measurable here (${s.why ?? ''})`;
  const total = totalBytesPerConnection(s);
  const text = (t: string, value: string | number | null = t): Cell => ({ text: t, value });
  return [
    text(s.server),
    text(claimSide(s) ?? '—'),
    text(cost, s.measurable ? rounded(s.fit!.bytesPerConnection, 0) : null),
    text(fixed(s.fit?.r, 3), s.fit?.r ?? null),
    text(kernelText(s), s.kernel?.measurable ? rounded(s.kernel.fit!.bytesPerConnection, 0) : null),
    text(total === undefined ? '—' : bytesText(total), rounded(total, 0)),
    text(s.fit ? bytesText(s.fit.interceptBytes) : '—', rounded(s.fit?.interceptBytes, 0)),
    text(held === null ? '—' : groupDigits(held), held),
    text(last?.measure ?? '—', last?.measure ?? null),
    text(
      s.connectionsInBudget ? `${groupDigits(s.connectionsInBudget.connections)} (extrapolated)` : '—',
      s.connectionsInBudget?.connections ?? null,
    ),
    text(
      s.stopped ? `at ${groupDigits(s.stopped.connections)}: ${s.stopped.why}` : '—',
      s.stopped ? `${s.stopped.connections}: ${s.stopped.why}` : null,
    ),
  ];
}

/** The memory experiment's table: bytes per connection of each server, with r and the measure (PSS or RSS). */
export function memoryTable(run: MemoryRun): Table {
  return {
    name: 'memory',
    title: `Memory per connection${run.quick ? ' (--quick)' : ''}: idle connections held open`,
    columns: [
      'server',
      'kind',
      'bytes/connection',
      'r',
      'kernel bytes/connection',
      'user + kernel',
      'at 0',
      'most held',
      'measure',
      `connections in ${bytesText(run.budgetBytes)}`,
      'stopped',
    ],
    csvColumns: [
      'server',
      'kind',
      'bytes_per_connection',
      'r',
      'kernel_bytes_per_connection',
      'total_bytes_per_connection',
      'intercept_bytes',
      'most_held',
      'measure',
      'connections_in_budget',
      'stopped',
    ],
    numeric: [false, false, true, true, false, true, true, true, false, true, false],
    rows: run.servers.map(row),
  };
}

/** What was measured, in one paragraph (the report and memory.html both say it). */
export function memoryMethod(run: MemoryRun): string {
  return (
    `Idle connections that sent a partial request head, held at ${run.levels.join(', ')}; memory of the server's process tree once ` +
    'settled (PSS for several processes, RSS for one). Bytes per connection is the least-squares slope, r its correlation; ' +
    `r < ${MIN_MEMORY_R} or a slope not above 0 is not measurable here. Connections within the budget are extrapolated from the fit, ` +
    `never measured.${kernelNote(run) ? ` ${kernelNote(run)}` : ''}`
  );
}

/** The table as HTML: its long cells wrap (a cost with why not, the connections in the budget, where it stopped). */
export function memoryTableHtml(run: MemoryRun): string {
  const table = memoryTable(run);
  const budget = table.columns.find((c) => c.startsWith('connections in'))!;
  return htmlTable(table, { key: ['server'], wrap: ['bytes/connection', 'kernel bytes/connection', budget, 'stopped'] });
}

/** The table and the claim as Markdown. */
export function memoryMarkdown(run: MemoryRun): string {
  const table = memoryTable(run);
  return [`## ${table.title}`, '', memoryMethod(run), '', markdownTable(table), '', memoryClaim(run).text, ''].join('\n');
}

/** memory.html: the memory experiment on a page of its own (`eventbench memory`, `eventbench report DIR`). */
export function memoryPageHtml(run: MemoryRun, svg: string): string {
  const title = 'eventbench: memory per connection';
  const body = [
    '<h1>Memory per connection</h1>',
    `<p><strong>${escapeHtml(memoryClaim(run).text)}</strong></p>`,
    `<p>${escapeHtml(`${memoryMethod(run)} ${run.environment.kernel}, ${run.environment.cpuModel}.`)}</p>`,
    memoryTableHtml(run),
    `<figure>${svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>Server memory against idle connections held; the slope of each line is ` +
      'its cost per connection.</figcaption></figure>',
  ];
  return page(title, body);
}

/** Writes memory.md, fig-memory.svg and memory.html beside memory.json; returns the HTML page's path. */
export async function writeMemoryReport(dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const { memoryFigure, renderSvg } = await import('./figures/index.js');
  const run = readMemoryRun(dir);
  const svg = await renderSvg(memoryFigure(run, 'wide').spec, 'fig-memory');
  await writeFile(path.join(dir, 'memory.md'), memoryMarkdown(run));
  await writeFile(path.join(dir, 'fig-memory.svg'), svg);
  const page = path.join(dir, 'memory.html');
  await writeFile(page, memoryPageHtml(run, svg));
  return page;
}
