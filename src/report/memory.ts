// The memory experiment's report (memory.json, schema eventbench.memory/2, /1 still read): a table of bytes per
// connection per server with r, in user space and in the kernel side by side (and their sum), the connections each
// would hold within the budget (extrapolated), where each stopped, a figure of memory against connections held,
// and the paper's claim (events use less memory per connection than threads) stated as confirmed or refuted by what
// was measured, in user space and then with the kernel counted too. Pure: the stored run in, text out.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { ResultsError } from '../core/errors.js';
import { MEMORY_FILE, MEMORY_SCHEMAS_READ, type MemoryRun, type MemoryServer } from '../experiments/memory.js';
import { bytesText, groupDigits } from './tables.js';
import { escapeHtml } from './html.js';
import { median } from '../core/numbers.js';

/**
 * How each server keeps a connection, for the claim: an event loop's state record ('events'), a kernel thread or
 * process ('threads'), or a user-space thread or continuation ('user threads', neither side of the claim).
 */
export const CONNECTION_KIND: Readonly<Record<string, 'events' | 'threads' | 'user threads'>> = {
  events: 'events', 'events-uv': 'events', 'node-http': 'events', 'native-epoll': 'events', lighttpd: 'events', nginx: 'events', h2o: 'events', 'apache-event': 'events',
  'native-uring': 'events',
  threads: 'threads', 'thread-pool': 'threads', processes: 'threads', 'process-pool': 'threads', 'native-fork': 'threads', 'native-pthreads': 'threads', 'apache-prefork': 'threads', 'apache-worker': 'threads',
  async: 'user threads', 'async-compiled': 'user threads', coroutines: 'user threads', 'native-pth': 'user threads', 'native-st': 'user threads',
  'native-coro': 'user threads', 'go-nethttp': 'user threads', 'go-raw': 'user threads',
};

export function readMemoryRun(dir: string): MemoryRun {
  const file = path.join(dir, MEMORY_FILE);
  let run: MemoryRun;
  try {
    run = JSON.parse(readFileSync(file, 'utf8')) as MemoryRun;
  } catch (err) {
    throw new ResultsError(`${file}: ${(err as Error).message}; run \`eventbench memory --out ${dir}\` first`);
  }
  if (!MEMORY_SCHEMAS_READ.includes(run.schema)) {
    throw new ResultsError(`${file}: schema ${JSON.stringify(run.schema)}, this eventbench reads ${MEMORY_SCHEMAS_READ.join(' and ')}`);
  }
  return run;
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
  const side = (kind: string, cost: (s: MemoryServer) => number | undefined) => run.servers
    .filter((s) => CONNECTION_KIND[s.server] === kind).map(cost).filter((x): x is number => x !== undefined);
  const user = (s: MemoryServer) => (s.measurable ? s.fit!.bytesPerConnection : undefined);
  const medianOf = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const events = medianOf(side('events', user));
  const threads = medianOf(side('threads', user));
  const claim = 'The paper: events use less memory per connection than threads.';
  if (events === undefined || threads === undefined) {
    return { verdict: 'not testable here', text: `${claim} Not testable here: ${events === undefined ? 'no event server' : 'no thread or process server'} had a measurable cost per connection.` };
  }
  const verdict = events < threads ? 'confirmed' : 'refuted';
  const text = `${claim} ${verdict === 'confirmed' ? 'Confirmed' : 'Refuted'} here: the median event server costs ${bytesText(events)} ` +
    `per connection (${side('events', user).length} servers), the median thread or process server ${bytesText(threads)} ` +
    `(${side('threads', user).length}).`;
  const eventsAll = side('events', totalBytesPerConnection);
  const threadsAll = side('threads', totalBytesPerConnection);
  if (eventsAll.length === 0 || threadsAll.length === 0) return { verdict, text };
  const counted = `${bytesText(median(eventsAll))} (${eventsAll.length} event servers) against ${bytesText(median(threadsAll))} ` +
    `(${threadsAll.length})`;
  return { verdict, text: `${text} With the kernel's memory counted too: ${counted}.` };
}

const SOURCE_TEXT = { 'cgroup-v1': 'cgroup v1', 'cgroup-v2': 'cgroup v2', host: 'host-wide' } as const;

/** "3.8 KiB (r 0.999, cgroup v1)", "not measurable here (...)", or "—" for a run from before the kernel was measured. */
function kernelText(s: MemoryServer): string {
  const k = s.kernel;
  if (!k) return '—';
  const where = SOURCE_TEXT[k.source];
  if (!k.measurable) return `not measurable here (${k.why ?? ''}; ${where})`;
  return `${bytesText(k.fit!.bytesPerConnection)} (r ${k.fit!.r?.toFixed(3) ?? '—'}, ${where})`;
}

const V1_FILES = 'cgroup v1: kmem and kmem.tcp';
const V2_FILES = 'cgroup v2: memory.stat kernel and sock';

/** What the kernel column is, for a run that measured it; '' for a run from before (eventbench.memory/1). */
export function kernelNote(run: MemoryRun): string {
  const sources = [...new Set(run.servers.flatMap((s) => (s.kernel ? [s.kernel.source] : [])))];
  if (sources.length === 0) return '';
  const how = sources.map((k) => (k === 'host'
    ? 'host-wide, from /proc/meminfo (KernelStack + PageTables + Slab), as no memory cgroup could be made: it also counts the client\'s ' +
      'own sockets and whatever else the host did, so it is not added to the user-space figure'
    : `from a memory cgroup made for the server's processes (${k === 'cgroup-v1' ? V1_FILES : V2_FILES})`));
  return 'The kernel\'s memory, which PSS and RSS leave out (kernel stacks, page tables, sockets, epoll items), is fitted the same way ' +
    `beside it, ${how.join('; or ')}.`;
}

function row(s: MemoryServer): string[] {
  const last = s.levels.at(-1);
  const held = last ? groupDigits(last.acceptedConnections ?? last.connections) : '—';
  const cost = s.status === 'failed' ? `failed: ${s.reason ?? ''}` : s.measurable ? bytesText(s.fit!.bytesPerConnection) : `not measurable here (${s.why ?? ''})`;
  const total = totalBytesPerConnection(s);
  return [
    s.server, CONNECTION_KIND[s.server] ?? '—', cost, s.fit?.r === null || s.fit === undefined ? '—' : s.fit.r.toFixed(3),
    kernelText(s), total === undefined ? '—' : bytesText(total),
    s.fit ? bytesText(s.fit.interceptBytes) : '—', held, s.levels.at(-1)?.measure ?? '—',
    s.connectionsInBudget ? `${groupDigits(s.connectionsInBudget.connections)} (extrapolated)` : '—',
    s.stopped ? `at ${groupDigits(s.stopped.connections)}: ${s.stopped.why}` : '—',
  ].map((c) => c.replaceAll('|', '/'));
}

export function memoryColumns(run: MemoryRun): string[] {
  return ['server', 'kind', 'bytes/connection', 'r', 'kernel bytes/connection', 'user + kernel', 'at 0 connections', 'most held', 'measure',
    `connections in ${bytesText(run.budgetBytes)}`, 'stopped'];
}

/** The table and the claim as Markdown. */
export function memoryMarkdown(run: MemoryRun): string {
  const cols = memoryColumns(run);
  const lines = [
    `## Memory per connection${run.quick ? ' (--quick)' : ''}`, '',
    `Idle connections that sent a partial request head, held at ${run.levels.join(', ')}; memory of the server's process tree once ` +
    'settled (PSS for several processes, RSS for one). Bytes per connection is the least-squares slope, r its correlation; r < 0.9 or a ' +
    'slope not above 0 is not measurable here. Connections within the budget are extrapolated from the fit, never measured.' +
    `${kernelNote(run) ? ` ${kernelNote(run)}` : ''}`, '',
    `| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`,
    ...run.servers.map((s) => `| ${row(s).join(' | ')} |`), '',
    memoryClaim(run).text, '',
  ];
  return lines.join('\n');
}

/** Memory (MiB) against connections held, one line per server: the slope is the cost per connection. */
export function memoryFigureSpec(run: MemoryRun): TopLevelSpec {
  const values = run.servers.flatMap((s) => s.levels.map((l) => ({ server: s.server, connections: l.acceptedConnections ?? l.connections, memoryMiB: l.memoryBytes / 2 ** 20 })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 560, height: 320, background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'connections', type: 'quantitative', title: 'idle connections held' },
      y: { field: 'memoryMiB', type: 'quantitative', title: 'server memory (MiB, PSS or RSS)', scale: { type: 'symlog' } },
      color: { field: 'server', type: 'nominal', title: 'server' },
    },
  } as TopLevelSpec;
}

/** A self-contained page: the claim, the table, the figure. */
export function memoryHtml(run: MemoryRun, svg: string): string {
  const cols = memoryColumns(run);
  const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = run.servers.map((s) => `<tr>${row(s).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>eventbench: memory per connection</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;text-align:left}</style></head>
<body><h1>Memory per connection</h1><p><strong>${escapeHtml(memoryClaim(run).text)}</strong></p>
<p>Idle connections that sent a partial request head, held at ${escapeHtml(run.levels.join(', '))}; ${escapeHtml(run.environment.kernel)}, \
${escapeHtml(run.environment.cpuModel)}. Connections within the budget are extrapolated from the fit.\
${kernelNote(run) ? ` ${escapeHtml(kernelNote(run))}` : ''}</p>
<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>
<figure>${svg}<figcaption>Server memory against idle connections held; the slope of each line is its cost per connection.</figcaption></figure></body></html>
`;
}

/** Writes memory.md, fig-memory.svg and memory.html beside memory.json; returns the HTML page's path. */
export async function writeMemoryReport(dir: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  const { renderSvg } = await import('./figures.js');
  const run = readMemoryRun(dir);
  const svg = await renderSvg(memoryFigureSpec(run), 'fig-memory');
  await writeFile(path.join(dir, 'memory.md'), memoryMarkdown(run));
  await writeFile(path.join(dir, 'fig-memory.svg'), svg);
  const page = path.join(dir, 'memory.html');
  await writeFile(page, memoryHtml(run, svg));
  return page;
}
