// The memory experiment's report (memory.json, schema eventbench.memory/1): a table of bytes per connection per
// server with r, the connections each would hold within the budget (extrapolated), where each stopped, a figure
// of memory against connections held, and the paper's claim (events use less memory per connection than
// threads) stated as confirmed or refuted by what was measured. Pure: the stored run in, text out.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { ResultsError } from '../core/errors.js';
import { MEMORY_FILE, type MemoryRun, type MemoryServer } from '../sweep/schema.js';
import { readMemory } from '../sweep/store.js';
import { findModel, type ConnectionKind } from '../servers/registry.js';
import { bytesText, groupDigits } from './tables.js';
import { escapeHtml } from './html.js';
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

function row(s: MemoryServer): string[] {
  const last = s.levels.at(-1);
  const held = last ? groupDigits(last.acceptedConnections ?? last.connections) : '—';
  const cost = s.status === 'failed' ? `failed: ${s.reason ?? ''}` : s.measurable ? bytesText(s.fit!.bytesPerConnection) : `not measurable here (${s.why ?? ''})`;
  return [
    s.server, claimSide(s.server) ?? '—', cost, s.fit?.r === null || s.fit === undefined ? '—' : s.fit.r.toFixed(3),
    s.fit ? bytesText(s.fit.interceptBytes) : '—', held, s.levels.at(-1)?.measure ?? '—',
    s.connectionsInBudget ? `${groupDigits(s.connectionsInBudget.connections)} (extrapolated)` : '—',
    s.stopped ? `at ${groupDigits(s.stopped.connections)}: ${s.stopped.why}` : '—',
  ].map((c) => c.replaceAll('|', '/'));
}

export function memoryColumns(run: MemoryRun): string[] {
  return ['server', 'kind', 'bytes/connection', 'r', 'at 0 connections', 'most held', 'measure', `connections in ${bytesText(run.budgetBytes)}`, 'stopped'];
}

/** The table and the claim as Markdown. */
export function memoryMarkdown(run: MemoryRun): string {
  const cols = memoryColumns(run);
  const lines = [
    `## Memory per connection${run.quick ? ' (--quick)' : ''}`, '',
    `Idle connections that sent a partial request head, held at ${run.levels.join(', ')}; memory of the server's process tree once settled (PSS for several processes, RSS for one). Bytes per connection is the least-squares slope, r its correlation; r < 0.9 or a slope not above 0 is not measurable here. Connections within the budget are extrapolated from the fit, never measured.`, '',
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
<p>Idle connections that sent a partial request head, held at ${escapeHtml(run.levels.join(', '))}; ${escapeHtml(run.environment.kernel)}, ${escapeHtml(run.environment.cpuModel)}. Connections within the budget are extrapolated from the fit.</p>
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
