// Text renderers: Markdown (for a paper or a pull request), CSV (one table), JSON (the whole model). Pure: model
// in, string out. The sentences both Markdown and HTML show (the summary, the environment) are made here once.
import type { ReportModel } from './model.js';
import { slopeOf, type ServerSummary } from '../analysis/summary.js';
import { knownRatio, pairingText, ratioBetween } from '../analysis/ratios.js';
import { longestPointS, QUICK_DEFAULTS, WAVES_PER_POINT } from '../sweep/plan.js';
import type { HostRecord, Plan, RunHosts } from '../results/schema.js';
import { CAVEAT_FLAGS, POINT_FLAG_KINDS } from '../results/verdict.js';
import {
  claimsTable,
  markdownTable,
  paperTable,
  rankingTable,
  serverText,
  table,
  topFairness,
  type Cell,
  type Table,
  type TableName,
} from './tables.js';
import { bytesText, fixed, groupDigits, halfWidthText, intervalText, percentText, ratioText, rounded } from '../core/format.js';
import { memoryMarkdown } from './memory.js';

export { markdownTable };
import { runtimesMarkdown } from './runtimes.js';

/** "native-st (user threads, the paper's ST): 0.070 ms per client, about 14,293 requests/s by Little's law". */
function describe(s: ServerSummary): string {
  const what = s.paperRow ? `${s.paperStyle ?? s.family}, the paper's ${s.paperRow}` : (s.label ?? s.family);
  const rps = s.impliedRps === null ? '—' : groupDigits(s.impliedRps);
  return `${serverText(s)} (${what}): ${fixed(s.latencyFit!.slope, 3)} ms per client, about ${rps} requests/s by Little's law`;
}

/** A tie group in one phrase: its members, and the range of their slopes and implied rates. */
function describeGroup(group: readonly ServerSummary[], reference: string): string {
  if (group.length === 1) return describe(group[0]!);
  const slopes = group.map((s) => s.latencyFit!.slope);
  const rps = group.map((s) => s.impliedRps ?? NaN);
  return (
    `${group.map(serverText).join(', ')}, tied (their 95% intervals of the ratio to ${reference} overlap): ` +
    `${fixed(Math.min(...slopes), 3)} to ${fixed(Math.max(...slopes), 3)} ms per client, ` +
    `about ${groupDigits(Math.min(...rps))} to ${groupDigits(Math.max(...rps))} requests/s by Little's law`
  );
}

/**
 * How many times the fastest's slope the slowest's is, said only where the data know it: every pair's ratio
 * interval (knownRatio) lies above 1; otherwise which pair is not told apart.
 */
function timesText(slowest: readonly ServerSummary[], fastest: readonly ServerSummary[], pairing: string): string {
  const pairs = slowest.flatMap((a) => fastest.map((b) => ({ a, b, k: knownRatio(a, b) })));
  const open = pairs.find((p) => p.k === null || p.k.slower !== p.a.server);
  if (open) {
    return `; not told apart from the fastest: the 95% interval of ${open.a.server} ÷ ${open.b.server}, ${pairing}, holds 1`;
  }
  const times = pairs.map((p) => p.k!.times);
  if (times.length === 1) return `, ${ratioText(times[0]!, 1)} the fastest's slope (95% interval, ${pairing})`;
  const lo = Math.min(...times.map((t) => t.value));
  const hi = Math.max(...times.map((t) => t.value));
  return (
    `, ${fixed(lo, 1)}× to ${fixed(hi, 1)}× the fastest group's slopes, every pair's 95% interval above 1 ` +
    `(the lowest bound ${fixed(Math.min(...times.map((t) => t.lo)), 2)}×)`
  );
}

/** The fastest and slowest tie groups (or servers, when nothing was ranked), and how the ties read. */
function extremes(model: ReportModel, fitted: readonly ServerSummary[]): string[] {
  const byName = new Map(model.servers.map((s) => [s.server, s]));
  const groups = model.ties.groups.map((g) => g.map((name) => byName.get(name)!));
  const reference = model.ratioReference.server ?? 'the reference';
  const fastest = groups[0] ?? (fitted[0] ? [fitted[0]] : []);
  const slowest = groups.at(-1) ?? (fitted.length > 1 ? [fitted.at(-1)!] : []);
  const lines: string[] = [];
  if (fastest.length > 0) lines.push(`Fastest: ${describeGroup(fastest, reference)}.`);
  if (slowest.length > 0 && slowest !== fastest)
    lines.push(`Slowest: ${describeGroup(slowest, reference)}${timesText(slowest, fastest, pairingText(model.plan))}.`);
  const tied = model.ties.groups.filter((g) => g.length > 1);
  if (tied.length > 0) {
    const chains = model.ties.chains;
    const chain =
      chains.length === 0
        ? ''
        : ` Overlaps also chain across groups (${chains.length} pair${chains.length > 1 ? 's' : ''}, ` +
          `such as ${chains[0]![0]} and ${chains[0]![1]}): the table is cut into the fewest such groups, and a cut is not a proven ` +
          'difference between its neighbours.';
    lines.push(
      `Ties, in ${model.ties.groups.length} groups down the ranking (in each, every pair's 95% intervals of the ratio to ` +
        `${reference} overlap, and they share one rank): ${tied.map((g) => g.join(' = ')).join('; ')}.${chain}`,
    );
  }
  return lines;
}

/** What a reader should take away first: who is fast, and whether to trust it. */
export function glance(model: ReportModel): string[] {
  // A server eventbench did not start (--url) ran at a speed of its own: it is neither the fastest nor the slowest.
  const apart = model.servers.filter((s) => s.flags.some((f) => (CAVEAT_FLAGS as readonly string[]).includes(f.kind))).map((s) => s.server);
  const fitted = model.servers.filter((s) => slopeOf(s) !== null && !apart.includes(s.server));
  const lines = extremes(model, fitted);
  if (apart.length > 0) {
    const why = 'measured at a URL eventbench did not start (unthrottled, unpinned, unsampled); its slope is its own';
    lines.push(`Not compared: ${apart.join(', ')}, ${why}.`);
  }
  const byKind = (kind: string) => model.servers.filter((s) => s.flags.some((f) => f.kind === kind)).map((s) => s.server);
  const flagged = POINT_FLAG_KINDS.filter((k) => !CAVEAT_FLAGS.includes(k))
    .map((kind) => ({ kind, servers: byKind(kind) }))
    .filter((k) => k.servers.length > 0);
  if (flagged.length > 0) {
    lines.push(`Trust: points flagged and left out of the fits: ${flagged.map((k) => `${k.kind} (${k.servers.join(', ')})`).join('; ')}.`);
  } else {
    lines.push('Trust: no point was flagged (every one held its load, at steady state, under its CPU quota).');
  }
  const overflow = byKind('accept-queue');
  if (overflow.length > 0)
    lines.push(
      `Accept-queue overflows during ${overflow.join(', ')}: connections were dropped and retried, as with the paper's somaxconn trap.`,
    );
  const stopped = byKind('stopped');
  if (stopped.length > 0) lines.push(`Stopped before the highest load: ${stopped.join(', ')}.`);
  const failed = byKind('failed');
  if (failed.length > 0) lines.push(`Failed points: ${failed.join(', ')}.`);
  const empty = model.servers.flatMap((s) =>
    s.notMeasured.filter((n) => n.why === 'served nothing').map((n) => `${s.server} at l=${n.load}`),
  );
  if (empty.length > 0) lines.push(`Served nothing (no value, drawn nowhere): ${empty.join(', ')}.`);
  const fair = fitted
    .map((s) => ({ s, f: topFairness(s) }))
    .filter((x) => x.f !== null)
    .sort((a, b) => a.f!.jainIndex - b.f!.jainIndex);
  if (fair.length > 1) {
    const text = (x: (typeof fair)[number]) => `${fixed(x.f!.jainIndex, 3)} (${x.s.server}, l=${x.f!.load})`;
    lines.push(
      "Fairness at each server's highest load (Jain's index over its clients, 1 = all served alike): " +
        `from ${text(fair[0]!)} to ${text(fair.at(-1)!)}.`,
    );
  }
  const weak = fitted.filter((s) => s.latencyFit!.r !== null && s.latencyFit!.r < 0.99);
  if (weak.length > 0)
    lines.push(
      `Not a straight line (r < 0.99): ${weak.map((s) => `${s.server} r=${fixed(s.latencyFit!.r, 3)}`).join(', ')}; read their slopes with care.`,
    );
  lines.push(...precisionLines(model));
  if (model.run.state !== 'finished') lines.push(`This run is ${model.run.state}: the report shows what was measured so far.`);
  return lines;
}

/** The precision the run asked, who reached it and who did not; and by how much the run passed its budget. */
function precisionLines(model: ReportModel): string[] {
  const lines: string[] = [];
  const p = model.precision;
  if (p && p.reached.length + p.missed.length > 0) {
    const ranked = p.reached.length + p.missed.length;
    const added = p.addedRounds > 0 ? ` and ${p.addedRounds} added where the intervals were widest` : '';
    const rounds = `${p.plannedRounds} planned round(s)${added}`;
    const missed = p.missed.map((m) => `${m.server} ${halfWidthText(m.halfWidth)}`).join(', ');
    lines.push(
      `Precision: ${halfWidthText(p.asked)} asked of every ratio to ${p.reference} (run --precision), after ${rounds}: ` +
        `reached by ${p.reached.length} of ${ranked}${missed ? `; not reached by ${missed}` : ''}` +
        `${p.noRatio.length > 0 ? `; no ratio (no slope): ${p.noRatio.join(', ')}` : ''}.`,
    );
  }
  const over = model.budget?.over;
  if (over)
    lines.push(`Budget: ${model.budget!.budgetS} s asked (run --budget); the run passed it by ${fixed(over.byS, 0)} s: ` + `${over.why}.`);
  return lines;
}

/** The run's environment and set-up as label/value pairs (units spelled out). */
export function environmentRows(model: ReportModel): [string, string][] {
  const { environment: e, host: h, plan: p } = model;
  const rows: [string, string][] = [
    [
      'run',
      `${model.run.id}, started ${model.run.startedAt}${model.run.finishedAt ? `, ended ${model.run.finishedAt}` : ''} (${model.run.state})`,
    ],
    ['CPU', `${e.cpuModel}, ${e.cpus} logical CPUs`],
    ['memory', bytesText(e.memoryBytes)],
    ['kernel', `${e.platform}, ${e.kernel}`],
    ['runtime', `${e.runtime} ${e.runtimeVersion}, eventbench ${e.eventbenchVersion}`],
    ['servers', p.servers.join(', ')],
    ['loads', `${p.loads.join(', ')}, ${roundsText(model)}${p.seed !== undefined ? ` (servers shuffled per round, seed ${p.seed})` : ''}`],
    ['each point', `${pointRule(p)}; ${p.pageBytes}-byte page, ${p.engine} client`],
    ['pinning', `${h.pinned ? 'pinned' : 'not pinned'}: server on CPU ${p.serverCpus}, client on CPU ${p.clientCpus}`],
    [
      'throttle',
      `${h.throttle.mechanism}${h.throttle.mechanism === 'none' ? (h.throttle.reason ? ` (${h.throttle.reason})` : '') : `, ${h.throttle.share} of a core in every ${h.throttle.periodMs ?? 100} ms`}`,
    ],
    [
      'backlog',
      `${p.backlog} asked; somaxconn ${h.somaxconn ?? 'unknown'}, tcp_max_syn_backlog ${h.tcpMaxSynBacklog ?? 'unknown'}, local ports ${h.ipLocalPortRange ?? 'unknown'}`,
    ],
    ['stop rules', `mean latency above ${p.latencyCapMs} ms or errors above ${percentText(p.errorShareCap)} of requests`],
  ];
  if (model.hosts) rows.splice(1, 0, ...hostsRows(model.hosts));
  return rows;
}

/** "3 rounds", or "3 rounds and 2 added (±10% asked of every ratio to lighttpd, budget 600 s)". */
function roundsText(model: ReportModel): string {
  const p = model.plan;
  const planned = `${p.rounds} round${p.rounds > 1 ? 's' : ''}`;
  if (p.precision === undefined) return planned;
  const added = model.precision?.addedRounds ?? 0;
  const reference = model.precision?.reference ?? 'the reference';
  const why = `${halfWidthText(p.precision)} asked of every ratio to ${reference}, budget ${p.budgetS} s`;
  return `${planned} and ${added} added for the widest intervals (${why})`;
}

/** The path between the clients and the server, in words. */
export function pathText(path: RunHosts['path']): string {
  if (path.kind === 'loopback') return 'loopback: server and client on one kernel (MTU 65536)';
  if (path.kind === 'ssh') return 'other machines reached over ssh: the network between them';
  const shaped = path.delayMs !== undefined ? `, netem ${path.delayMs} ms one way` : '';
  return (
    `network namespaces of \`eventbench hosts up\` on one machine: veth links at MTU ${path.mtu ?? 'unknown'}, ` +
    `${path.rate ? `shaped by tbf to ${path.rate}` : 'unshaped'}${shaped}`
  );
}

/** One host in a line: how it was reached, its name, kernel, CPU, versions, and its clock against the runner's. */
export function hostText(h: HostRecord): string {
  const e = h.environment;
  const where = h.host === 'here' ? `this machine (${h.hostname}, the runner's own process)` : `${h.host} (${h.hostname})`;
  const clock = h.clock ? `; clock ${fixed(h.clock.offsetMs, 3)} ms ± ${fixed(h.clock.boundMs, 3)} ms from the runner's` : '';
  const versions = `${e.runtime} ${e.runtimeVersion}, eventbench ${e.eventbenchVersion}`;
  return `${where}: Linux ${e.kernel}, ${e.cpuModel}, ${e.cpus} CPUs, ${versions}${clock}`;
}

/** The run's hosts and the path between them, as label/value pairs. */
export function hostsRows(h: RunHosts): [string, string][] {
  const split = h.clients.length > 1 ? ` (each point's load split over the ${h.clients.length}, one start, records merged)` : '';
  return [
    ['server host', `${hostText(h.server)}; servers listened on ${h.server.address}`],
    ...h.clients.map((c, k): [string, string] => [
      `client host${h.clients.length > 1 ? ` ${k + 1}` : ''}`,
      hostText(c) + (k === 0 ? split : ''),
    ]),
    ['path', pathText(h.path)],
  ];
}

/** How long each point ran and what it kept, from the plan's own numbers (src/sweep/plan.ts pointDurationS). */
export function pointRule(p: Plan): string {
  const trim = `min(${groupDigits(p.trim)}, l) requests trimmed at each end by start order`;
  if (p.durationS === undefined) return `${groupDigits(p.requests ?? 0)} requests, ${trim}`;
  const cap = p.requests !== undefined ? `, at most ${groupDigits(p.requests)} requests` : '';
  if (p.durationS <= QUICK_DEFAULTS.durationS) return `${p.durationS} s (a --quick point, not lengthened)${cap}, ${trim}`;
  const longest = rounded(longestPointS(p), 3);
  return (
    `${p.durationS} s, lengthened to hold ${WAVES_PER_POINT} waves of l requests at the server's rate at its previous load, ` +
    `up to ${longest} s${cap}; ${trim}`
  );
}

/** Folder names that say nothing of the run (`--out run`): the title leaves them out. */
const GENERIC_NAMES = /^(run|runs|results?|out|output|report|tmp|temp|data|\.)$/i;

/** The CPU as a title names it: "AMD EPYC 7B13", "Intel Core i7-8650U" (trademarks, "CPU", the clock left out). */
export function cpuName(cpuModel: string): string {
  const name = cpuModel
    .replace(/\((R|TM)\)/gi, '')
    .replace(/@.*$/, '')
    .replace(/\b(CPU|Processor|\d+-Core)\b/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
  return name || cpuModel;
}

/** "Are events fast? 23 servers on AMD EPYC, 2026-11-28", with the run folder's name where it says more than its date. */
export function reportTitle(model: ReportModel): string {
  const date = model.run.startedAt.slice(0, 10);
  const id = model.run.id;
  const named = GENERIC_NAMES.test(id) || id.startsWith(date) ? '' : `${id}: `;
  return `Are events fast? ${named}${model.servers.length} servers on ${cpuName(model.environment.cpuModel)}, ${date}`;
}

/** The line under the title: the run's folder, loads and rounds, machine and kernel, and the paper it repeats. */
export function runLine(model: ReportModel): string {
  const p = model.plan;
  const rounds = `${p.rounds} round${p.rounds === 1 ? '' : 's'}`;
  return (
    `Run ${model.run.id}: offered loads ${p.loads.join(', ')}, ${rounds}; ${model.environment.cpuModel}, Linux ` +
    `${model.environment.kernel}. The paper: Kerneis & Chroboczek, 2009.`
  );
}

/**
 * How much of TypeScript's gap to C is the language and how much the runtime's I/O layers, where the run has what
 * tells them apart: events-epoll makes native-epoll's system calls in native-epoll's order, so events-epoll ÷
 * native-epoll is the language and its FFI; events-uv (libuv's handles) and events (and net.Socket's streams) ÷
 * events-epoll are the layers. Ratios of slopes with their 95% intervals; none without both epolls.
 */
export function typescriptGap(model: ReportModel): string[] {
  const fitted = (name: string) => model.servers.find((s) => s.server === name && slopeOf(s) !== null);
  const [c, ts] = [fitted('native-epoll'), fitted('events-epoll')];
  const ratio = (a: ServerSummary, b: ServerSummary) => ratioBetween(a, b);
  const language = c && ts ? ratio(ts, c) : null;
  if (!c || !ts || !language) return [];
  const lines = [
    `The language: events-epoll makes native-epoll's system calls in native-epoll's order, from TypeScript through the FFI; its slope is ${intervalText(language, 2)}× native-epoll's (95% interval).`,
  ];
  const layers: [string, string][] = [
    ['events-uv', "libuv's TCP handles and their callbacks"],
    ['events', "libuv and net.Socket's streams"],
  ];
  for (const [name, what] of layers) {
    const s = fitted(name);
    const [layer, whole] = s ? [ratio(s, ts), ratio(s, c)] : [null, null];
    if (!layer || !whole) continue;
    lines.push(
      `The runtime's I/O layers: ${name} is ${intervalText(layer, 2)}× events-epoll's slope, what ${what} add; of its ${fixed(whole.value, 2)}× native-epoll's, ${fixed(language.value, 2)}× is the language and ${fixed(layer.value, 2)}× the layers.`,
    );
  }
  return lines;
}

export function renderMarkdown(model: ReportModel): string {
  const out: string[] = [`# ${reportTitle(model)}`, '', runLine(model), ''];
  if (model.run.state !== 'finished') out.push(`**This run is ${model.run.state}: the report shows the points measured so far.**`, '');
  out.push(...model.answer.flatMap((l) => [l, '']));
  const claims = claimsTable(model);
  out.push(`## ${claims.title}`, '', markdownTable(claims), '');
  const ranking = rankingTable(model);
  out.push(`## ${ranking.title}`, '', model.ratioReference.why, '', markdownTable(ranking), '');
  out.push(...glance(model).map((l) => `- ${l}`), '');
  const flagged = model.servers.filter((s) => s.flags.length > 0);
  if (flagged.length > 0) {
    out.push('Flags:', '');
    for (const s of flagged) for (const f of s.flags) out.push(`- ${s.server}: ${f.text}`);
    out.push('');
  }
  out.push(...runtimesMarkdown(model));
  const paper = paperTable(model);
  out.push(`## ${paper.title}`, '', model.reference.why, '', markdownTable(paper), '');
  const gap = typescriptGap(model);
  if (gap.length > 0) out.push(...gap.map((l) => `- ${l}`), '');
  if (model.memory) out.push(memoryMarkdown(model.memory));
  else {
    out.push(
      '## Memory per connection',
      '',
      'This run folder holds no memory.json: measure it with `eventbench memory --out DIR` (or a run without --no-memory).',
      '',
    );
  }
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
  return csvTable(table(model, name));
}

/** One table as CSV: its CSV columns (units in the names), every value. */
export function csvTable(t: Table): string {
  return [t.csvColumns.join(','), ...t.rows.map((r) => r.map((c) => csvField(c.value)).join(','))].join('\n') + '\n';
}

export function renderJson(model: ReportModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
