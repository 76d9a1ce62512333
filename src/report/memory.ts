// The memory experiment's report (memory.json, schema eventbench.memory/2, /1 still read): a table of bytes per
// connection per server with r, in user space and in the kernel side by side (and their sum), the connections each
// would hold within the budget (extrapolated), where each stopped, a figure of memory against connections held
// (figures.ts), and the paper's claim (events use less memory per connection than threads) stated as confirmed or
// refuted by what was measured, in user space and then with the kernel counted too. Pure: the stored run in, text
// out. Shown in report.html when the run folder holds memory.json, and on a page of its own (memory.html).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ResultsError } from '../core/errors.js';
import { MEMORY_FILE, type MemoryRun, type MemoryServer } from '../results/schema.js';
import { MIN_MEMORY_R } from '../experiments/memory.js';
import { readMemory } from '../results/store.js';
import { findModel, type ConnectionKind } from '../servers/registry.js';
import { markdownTable, type Cell, type Table } from './tables.js';
import { bytesText, groupDigits } from '../core/format.js';
import { median } from '../core/numbers.js';

/**
 * Which side of the claim each way of holding a connection is on (the model declares its kind, src/servers/types.ts):
 * an event loop's record ('events'), a kernel thread or process, own or of a pool ('threads'), or a user-space
 * thread or continuation ('user threads', neither side).
 */
const CLAIM_SIDE: Readonly<Partial<Record<ConnectionKind, 'events' | 'threads' | 'user threads'>>> = {
  event: 'events',
  thread: 'threads',
  process: 'threads',
  pool: 'threads',
  'user-thread': 'user threads',
};

/**
 * The claim's side of a measured server: from what memory.json recorded of it, else from its model (a runtime
 * variant's is its model's); undefined when unknown (a user's server that did not say).
 */
export function claimSide(s: Pick<MemoryServer, 'server' | 'connection'>): 'events' | 'threads' | 'user threads' | undefined {
  const kind = s.connection ?? findModel(s.server)?.connection;
  return kind ? CLAIM_SIDE[kind] : undefined;
}

/** memory.json of a folder, through the one reader of results folders; says what to run when there is none. */
export function readMemoryRun(dir: string): MemoryRun {
  const file = path.join(dir, MEMORY_FILE);
  if (!existsSync(file)) throw new ResultsError(`${file} does not exist; run \`eventbench memory --out ${dir}\` first`);
  return readMemory(dir);
}

/** User space and kernel per connection, bytes, when both were measured (the kernel's only from the server's own cgroup). */
export function totalBytesPerConnection(s: MemoryServer): number | undefined {
  const k = s.kernel;
  return s.measurable && k?.measurable && k.source !== 'host' ? s.fit!.bytesPerConnection + k.fit!.bytesPerConnection : undefined;
}

/**
 * The paper's claim against the measured servers: the median bytes per connection of each side, in user space;
 * then, where the servers' own cgroups measured their kernel memory too, with it counted.
 */
export function memoryClaim(run: MemoryRun): { verdict: 'confirmed' | 'refuted' | 'not testable here'; text: string } {
  const side = (kind: string, cost: (s: MemoryServer) => number | undefined) =>
    run.servers
      .filter((s) => claimSide(s) === kind)
      .map(cost)
      .filter((x): x is number => x !== undefined);
  const user = (s: MemoryServer) => (s.measurable ? s.fit!.bytesPerConnection : undefined);
  const medianOf = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const events = medianOf(side('events', user));
  const threads = medianOf(side('threads', user));
  const claim = 'The paper: events use less memory per connection than threads.';
  if (events === undefined || threads === undefined) {
    return {
      verdict: 'not testable here',
      text: `${claim} Not testable here: ${events === undefined ? 'no event server' : 'no thread or process server'} had a measurable cost per connection.`,
    };
  }
  const verdict = events < threads ? 'confirmed' : 'refuted';
  const text =
    `${claim} ${verdict === 'confirmed' ? 'Confirmed' : 'Refuted'} here: the median event server costs ${bytesText(events)} ` +
    `per connection (${side('events', user).length} servers), the median thread or process server ${bytesText(threads)} ` +
    `(${side('threads', user).length}).`;
  const eventsAll = side('events', totalBytesPerConnection);
  const threadsAll = side('threads', totalBytesPerConnection);
  if (eventsAll.length === 0 || threadsAll.length === 0) return { verdict, text };
  const counted =
    `${bytesText(median(eventsAll))} (${eventsAll.length} event servers) against ${bytesText(median(threadsAll))} ` +
    `(${threadsAll.length})`;
  return { verdict, text: `${text} With the kernel's memory counted too: ${counted}.` };
}

/** "3.8 KiB (r 0.999, cgroup v1)", "not measurable here (...)", or "—" for a run from before the kernel was measured. */
function kernelText(s: MemoryServer): string {
  const k = s.kernel;
  if (!k) return '—';
  // Where it was read is said once under the table (kernelNote); only a host-wide figure says so in its cell.
  const where = k.source === 'host' ? ', host-wide' : '';
  if (!k.measurable) return `not measurable here (${k.why ?? ''}${where})`;
  return `${bytesText(k.fit!.bytesPerConnection)} (r ${k.fit!.r?.toFixed(3) ?? '—'}${where})`;
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
    text(cost, s.measurable ? Math.round(s.fit!.bytesPerConnection) : null),
    text(s.fit?.r === null || s.fit === undefined ? '—' : s.fit.r.toFixed(3), s.fit?.r ?? null),
    text(kernelText(s), s.kernel?.measurable ? Math.round(s.kernel.fit!.bytesPerConnection) : null),
    text(total === undefined ? '—' : bytesText(total), total === undefined ? null : Math.round(total)),
    text(s.fit ? bytesText(s.fit.interceptBytes) : '—', s.fit ? Math.round(s.fit.interceptBytes) : null),
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

/** The table and the claim as Markdown. */
export function memoryMarkdown(run: MemoryRun): string {
  const table = memoryTable(run);
  return [`## ${table.title}`, '', memoryMethod(run), '', markdownTable(table), '', memoryClaim(run).text, ''].join('\n');
}

/** Writes memory.md, fig-memory.svg and memory.html beside memory.json; returns the HTML page's path. */
export async function writeMemoryReport(dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const { memoryFigure, renderSvg } = await import('./figures/index.js');
  const { memoryPageHtml } = await import('./html.js');
  const run = readMemoryRun(dir);
  const svg = await renderSvg(memoryFigure(run, 'wide').spec, 'fig-memory');
  await writeFile(path.join(dir, 'memory.md'), memoryMarkdown(run));
  await writeFile(path.join(dir, 'fig-memory.svg'), svg);
  const page = path.join(dir, 'memory.html');
  await writeFile(page, memoryPageHtml(run, svg));
  return page;
}
