// Text renderers: Markdown (for a paper or a pull request), CSV (one table), JSON (the whole model). Pure: model
// in, string out. The sentences both Markdown and HTML show (the summary, the environment) are made here once.
import { slopeOf, type ReportModel } from './model.js';
import { CAVEAT_FLAGS, POINT_FLAG_KINDS } from '../sweep/verdict.js';
import { bytesText, fixed, groupDigits, paperTable, serverText, rankingTable, table, visible } from './tables.js';
import type { Cell, Table, TableName } from './tables.js';
import { runtimesMarkdown } from './runtimes.js';

/** What a reader should take away first: who is fast, and whether to trust it. */
export function glance(model: ReportModel): string[] {
  // A server eventbench did not start (--url) ran at a speed of its own: it is neither the fastest nor the slowest.
  const apart = model.servers.filter((s) => s.flags.some((f) => (CAVEAT_FLAGS as readonly string[]).includes(f.kind))).map((s) => s.server);
  const fitted = model.servers.filter((s) => slopeOf(s) !== null && !apart.includes(s.server));
  const lines: string[] = [];
  const fastest = fitted[0];
  const slowest = fitted[fitted.length - 1];
  const describe = (s: (typeof fitted)[number]) =>
    `${serverText(s)} (${s.paperRow ? `${s.paperStyle ?? s.family}, the paper's ${s.paperRow}` : s.label ?? s.family}): ${fixed(s.latencyFit!.slope, 3)} ms per client, about ${s.impliedRps === null ? '—' : groupDigits(s.impliedRps)} requests/s by Little's law`;
  if (fastest) lines.push(`Fastest: ${describe(fastest)}.`);
  if (slowest && slowest !== fastest) lines.push(`Slowest: ${describe(slowest)}${fastest && fastest.latencyFit!.slope > 0 ? `, ${(slowest.latencyFit!.slope / fastest.latencyFit!.slope).toFixed(1)}× the fastest's slope` : ''}.`);
  const byKind = (kind: string) => model.servers.filter((s) => s.flags.some((f) => f.kind === kind)).map((s) => s.server);
  const flagged = POINT_FLAG_KINDS.filter((k) => !CAVEAT_FLAGS.includes(k))
    .map((kind) => ({ kind, servers: byKind(kind) })).filter((k) => k.servers.length > 0);
  if (flagged.length > 0) {
    lines.push(`Trust: points flagged and left out of the fits: ${flagged.map((k) => `${k.kind} (${k.servers.join(', ')})`).join('; ')}.`);
  } else {
    lines.push('Trust: no point was flagged (every one held its load, at steady state, under its CPU quota).');
  }
  if (apart.length > 0) {
    const why = 'measured at a URL eventbench did not start (unthrottled, unpinned, unsampled); its slope is its own';
    lines.push(`Not compared: ${apart.join(', ')}, ${why}.`);
  }
  const tied = fitted.filter((s) => s.tiedWith.length > 0);
  if (tied.length > 0 && model.ratioReference.server) {
    const groups = new Set(tied.map((s) => [s.server, ...s.tiedWith].sort().join(' = ')));
    lines.push(`Ties (95% intervals of the ratio to ${model.ratioReference.server} overlap): ${[...groups].join('; ')}.`);
  }
  const overflow = byKind('accept-queue');
  if (overflow.length > 0) lines.push(`Accept-queue overflows during ${overflow.join(', ')}: connections were dropped and retried, as with the paper's somaxconn trap.`);
  const stopped = byKind('stopped');
  if (stopped.length > 0) lines.push(`Stopped before the highest load: ${stopped.join(', ')}.`);
  const failed = byKind('failed');
  if (failed.length > 0) lines.push(`Failed points: ${failed.join(', ')}.`);
  const weak = fitted.filter((s) => s.latencyFit!.r !== null && s.latencyFit!.r < 0.99);
  if (weak.length > 0) lines.push(`Not a straight line (r < 0.99): ${weak.map((s) => `${s.server} r=${fixed(s.latencyFit!.r, 3)}`).join(', ')}; read their slopes with care.`);
  if (model.run.state !== 'finished') lines.push(`This run is ${model.run.state}: the report shows what was measured so far.`);
  return lines;
}

/** The run's environment and set-up as label/value pairs (units spelled out). */
export function environmentRows(model: ReportModel): [string, string][] {
  const { environment: e, host: h, plan: p } = model;
  const rows: [string, string][] = [
    ['run', `${model.run.id}, started ${model.run.startedAt}${model.run.finishedAt ? `, ended ${model.run.finishedAt}` : ''} (${model.run.state})`],
    ['CPU', `${e.cpuModel}, ${e.cpus} logical CPUs`],
    ['memory', bytesText(e.memoryBytes)],
    ['kernel', `${e.platform}, ${e.kernel}`],
    ['runtime', `${e.runtime} ${e.runtimeVersion}, eventbench ${e.eventbenchVersion}`],
    ['servers', p.servers.join(', ')],
    ['loads', `${p.loads.join(', ')}, ${p.repeat} round${p.repeat > 1 ? 's' : ''}${p.seed !== undefined ? ` (server order shuffled per round, seed ${p.seed})` : ''}`],
    ['each point', `${p.requests !== undefined ? `${groupDigits(p.requests)} requests` : `${p.durationS} s`}, ${p.trim} trimmed at each end, ${p.pageBytes}-byte page, ${p.engine} client`],
    ['pinning', `${h.pinned ? 'pinned' : 'not pinned'}: server on CPU ${p.serverCpus}, client on CPU ${p.clientCpus}`],
    ['throttle', `${h.throttle.mechanism}${h.throttle.mechanism === 'none' ? (h.throttle.reason ? ` (${h.throttle.reason})` : '') : `, ${h.throttle.share} of a core in every ${h.throttle.periodMs ?? 100} ms`}`],
    ['backlog', `${p.backlog} asked; somaxconn ${h.somaxconn ?? 'unknown'}, tcp_max_syn_backlog ${h.tcpMaxSynBacklog ?? 'unknown'}, local ports ${h.ipLocalPortRange ?? 'unknown'}`],
    ['stop rules', `mean latency above ${p.latencyCapMs} ms or errors above ${(p.errorShareCap * 100).toFixed(1)}% of requests`],
  ];
  return rows;
}

const mdCell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function markdownTable(t: Table): string {
  const head = `| ${t.columns.map(mdCell).join(' | ')} |`;
  const rule = `|${t.numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = t.rows.map((r) => `| ${visible(r).map((c) => mdCell(c.text)).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

export function renderMarkdown(model: ReportModel): string {
  const out: string[] = [`# eventbench: are events fast? Run ${model.run.id}`, ''];
  out.push(...glance(model).map((l) => `- ${l}`), '');
  const ranking = rankingTable(model);
  out.push(`## ${ranking.title}`, '', model.ratioReference.why, '', markdownTable(ranking), '');
  const flagged = model.servers.filter((s) => s.flags.length > 0);
  if (flagged.length > 0) {
    out.push('Flags:', '');
    for (const s of flagged) for (const f of s.flags) out.push(`- ${s.server}: ${f.text}`);
    out.push('');
  }
  out.push(...runtimesMarkdown(model));
  const paper = paperTable(model);
  out.push(`## ${paper.title}`, '', model.reference.why, '', markdownTable(paper), '');
  out.push('## Environment', '', ...environmentRows(model).map(([k, v]) => `- ${k}: ${v}`), '');
  if (model.skipped.length > 0) out.push('## Skipped servers', '', ...model.skipped.map((s) => `- ${s.server}: ${s.reason}`), '');
  out.push('## Warnings', '', ...(model.warnings.length > 0 ? model.warnings.map((w) => `- ${w}`) : ['None recorded.']), '');
  if (model.notes.length > 0) out.push('## Notes on this report', '', ...model.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

const csvField = (v: Cell['value']): string => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function renderCsv(model: ReportModel, name: TableName = 'ranking'): string {
  const t = table(model, name);
  return [t.csvColumns.join(','), ...t.rows.map((r) => r.map((c) => csvField(c.value)).join(','))].join('\n') + '\n';
}

export function renderJson(model: ReportModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
