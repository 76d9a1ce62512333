// `eventbench report A B ...`: the same servers measured in several runs (over loopback on one machine, then with the
// server on another host; or one plan run twice), side by side. Each server's slope ratio to one reference server,
// with its 95% interval over the rounds, in every run, and whether those intervals overlap: a ratio is the answer
// a run gives (the machine's speed and the path cancel in it), so runs that agree overlap. Each run is named with
// its hosts, its path and its wall time. Pure: stored runs in, model and text out.
import path from 'node:path';
import { buildModel, type ReportModel } from './model.js';
import { overlaps, type Interval } from '../core/intervals.js';
import { markdownTable, type Cell, type Table } from './tables.js';
import { VERDICT_TEXT, type Claim } from './claims.js';
import { fixed, intervalText, rounded } from '../core/format.js';
import { hostText, pathText } from './text.js';
import type { ReportInput } from './read.js';

export const COMPARE_SCHEMA = 'eventbench.compare/1';

export interface ComparedRun {
  /** Its folder's name (made unique), as the columns name it. */
  label: string;
  dir: string;
  id: string;
  state: ReportModel['run']['state'];
  /** The path from the clients to the server, in words, and the hosts in one line each. */
  path: string;
  hosts: string[];
  /** From its start to its end, seconds; null for a run not finished. */
  wallS: number | null;
}

export interface ComparedServer {
  server: string;
  /** Its ratio to the reference with its 95% interval in each run, in run order; null where that run has none. */
  ratios: (Interval | null)[];
  /** Whether every two runs' intervals overlap; null when a run has no ratio for it. */
  overlap: boolean | null;
}

/** One claim of the paper as each run judges it (claims.ts), in run order. */
export interface ComparedClaim {
  id: Claim['id'];
  claim: string;
  paper: string;
  runs: Pick<Claim, 'verdict' | 'now' | 'why'>[];
}

export interface RunsComparison {
  schema: typeof COMPARE_SCHEMA;
  /** The paper's claims, a verdict per run: where the runs' answers to the paper agree, and where not. */
  claims: ComparedClaim[];
  /** The server every ratio divides by, in every run; null when none is common to them. */
  reference: string | null;
  why: string;
  runs: ComparedRun[];
  servers: ComparedServer[];
}

/** Compares stored runs; `reference` (default: the first run's own reference) is the same in all of them. */
export function compareRuns(stored: readonly ReportInput[], reference?: string): RunsComparison {
  const first = buildModel(stored[0]!, reference !== undefined ? { reference } : {});
  const ref = reference ?? first.ratioReference.server ?? undefined;
  const models = stored.map((s, k) => (k === 0 ? first : buildModel(s, ref !== undefined ? { reference: ref } : {})));
  const labels = uniqueLabels(stored.map((s) => path.basename(s.dir)));
  const names = [...new Set(models.flatMap((m) => m.servers.map((s) => s.server)))].filter((s) => s !== ref);
  // A run that fell back to another reference (ref has no slope there) has no ratio to compare.
  const ratioIn = (m: ReportModel, server: string) =>
    m.ratioReference.server === ref ? (m.servers.find((s) => s.server === server)?.ratio ?? null) : null;
  const servers = names.map((server): ComparedServer => {
    const ratios = models.map((m) => ratioIn(m, server));
    const known = ratios.filter((r): r is Interval => r !== null);
    const overlap = known.length < ratios.length ? null : known.every((a, i) => known.slice(i + 1).every((b) => overlaps(a, b)));
    return { server, ratios, overlap };
  });
  const common = ref !== undefined && models.every((m) => m.ratioReference.server === ref);
  const claims = first.claims.map(({ id, claim, paper }) => ({
    id,
    claim,
    paper,
    runs: models.map((m) => {
      const { verdict, now, why } = m.claims.find((c) => c.id === id)!;
      return { verdict, now, why };
    }),
  }));
  return {
    schema: COMPARE_SCHEMA,
    claims,
    reference: common ? ref! : null,
    why: common
      ? `every ratio divides a server's slope by ${ref}'s in the same run, ${models.every((m) => m.plan.cycles !== undefined) ? 'paired in time' : 'rounds paired'}`
      : `no reference server is measured in every run${ref ? ` (${ref} is not)` : ''}: choose one with --reference`,
    runs: models.map((m, k) => comparedRun(m, labels[k]!, stored[k]!.dir)),
    servers,
  };
}

function comparedRun(m: ReportModel, label: string, dir: string): ComparedRun {
  const h = m.hosts;
  const wallS = m.run.finishedAt ? (Date.parse(m.run.finishedAt) - Date.parse(m.run.startedAt)) / 1000 : null;
  return {
    label,
    dir,
    id: m.run.id,
    state: m.run.state,
    path: h ? pathText(h.path) : 'loopback: server and client on one kernel (a run made before hosts were recorded)',
    hosts: h ? [`server: ${hostText(h.server)}`, ...h.clients.map((c) => `client: ${hostText(c)}`)] : [],
    wallS,
  };
}

/** Folder names, with a number added where two are alike. */
function uniqueLabels(names: string[]): string[] {
  return names.map((n, k) => (names.indexOf(n) === k && names.lastIndexOf(n) === k ? n : `${n} (${k + 1})`));
}

/** The side-by-side table: one row per server, a ratio column per run (CSV: its bounds too), and the overlap. */
export function comparisonTable(c: RunsComparison): Table {
  const intervalCells = (r: Interval | null): Cell[] => [
    { text: intervalText(r, 2), value: rounded(r?.value, 4) },
    { text: '', value: rounded(r?.lo, 4), csvOnly: true },
    { text: '', value: rounded(r?.hi, 4), csvOnly: true },
  ];
  const overlapText = (o: boolean | null) => (o === null ? '—' : o ? 'yes' : 'NO');
  return {
    name: 'compare',
    title: `Ratio of each server's slope to ${c.reference ?? 'a reference'}'s, with 95% intervals, in each run`,
    columns: ['server', ...c.runs.map((r) => `÷ ${c.reference ?? '?'} in ${r.label}`), 'intervals overlap'],
    csvColumns: ['server', ...c.runs.flatMap((_, k) => [`ratio_${k + 1}`, `ratio_${k + 1}_lo`, `ratio_${k + 1}_hi`]), 'overlap'],
    numeric: [false, ...c.runs.map(() => true), false],
    rows: c.servers.map((s) => [
      { text: s.server, value: s.server },
      ...s.ratios.flatMap(intervalCells),
      { text: overlapText(s.overlap), value: s.overlap },
    ]),
  };
}

/** The paper's claims, a column a run: each run's verdict and its number (ratios to that run's own reference). */
export function claimsComparisonTable(c: RunsComparison): Table {
  return {
    name: 'compare',
    title: "The paper's claims, run by run",
    columns: ['claim', 'the paper', ...c.runs.map((r) => r.label)],
    csvColumns: ['claim_id', 'claim', 'paper', ...c.runs.flatMap((_, k) => [`verdict_${k + 1}`, `this_run_${k + 1}`])],
    numeric: [false, false, ...c.runs.map(() => false)],
    rows: c.claims.map((claim) => [
      { text: '', value: claim.id, csvOnly: true },
      { text: claim.claim, value: claim.claim },
      { text: claim.paper, value: claim.paper },
      ...claim.runs.flatMap((r): Cell[] => [
        { text: `${VERDICT_TEXT[r.verdict]}${r.now === '—' ? '' : `: ${r.now}`}`, value: r.verdict },
        { text: '', value: r.now, csvOnly: true },
      ]),
    ]),
  };
}

export function comparisonMarkdown(c: RunsComparison): string {
  const out = [`# eventbench: ${c.runs.length} runs side by side`, '', c.why, ''];
  for (const r of c.runs) {
    const wall = r.wallS === null ? `${r.state}` : `${fixed(r.wallS, 0)} s from start to end`;
    out.push(`- **${r.label}** (${r.dir}): ${r.path}; ${wall}`, ...r.hosts.map((h) => `  - ${h}`));
  }
  const differ = c.claims.filter((claim) => new Set(claim.runs.map((r) => r.verdict)).size > 1).map((claim) => claim.id);
  const claims = claimsComparisonTable(c);
  out.push('', `## ${claims.title}`, '', markdownTable(claims), '');
  out.push(differ.length === 0 ? 'Every claim has the same verdict in every run.' : `The verdicts differ on: ${differ.join(', ')}.`, '');
  out.push(`## ${comparisonTable(c).title}`);
  const apart = c.servers.filter((s) => s.overlap === false).map((s) => s.server);
  const told = c.servers.filter((s) => s.overlap !== null).length;
  out.push('', markdownTable(comparisonTable(c)), '');
  out.push(
    told === 0
      ? 'No server has a ratio in every run: nothing to compare.'
      : apart.length === 0
        ? `The runs agree: every server's intervals overlap (${told} compared).`
        : `The runs disagree on ${apart.join(', ')}: their intervals do not overlap.`,
    '',
  );
  return out.join('\n');
}
