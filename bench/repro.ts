// `npm run bench:repro`: does the same plan, run three times back to back (A, B, C), give the same answer, and
// say how sure it is honestly? Each run of one documented plan (below) in rounds as `eventbench run` does; for
// every server, the ratio of its slope to the reference's (lighttpd, else native-epoll) in each run with its 95%
// interval, whether each pair of runs' intervals overlap, the server's process and point spreads in each run,
// and each run's median half-width. Targets: every pair of runs overlaps for every server (honesty); the median
// half-width is 10% or less (usefulness); no change of order between two servers untied in both runs of a pair.
//   node dist/bench/repro.js [--servers a,b,...] [--repeat 2] [--loads 10,250,1000] [--precision 10%] [--budget 6m]
//     (the paired design of `eventbench run`: each run's rounds of fresh processes swept in cycles, the reference
//     between the others, cycles added where its ratio intervals are widest until every one is as narrow as
//     --precision or its --budget, 6 minutes by default, is spent)
//   node dist/bench/repro.js --from DIR DIR DIR   (reads stored runs again, measures nothing; or --from BASE,
//                                                  the folder a measured repro left with A, B and C in it)
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/experiments/run.js';
import { buildModel, readReportRun } from '../src/report/index.js';
import { halfWidth, overlaps, type Interval } from '../src/core/intervals.js';
import type { ReportModel } from '../src/report/model.js';
import type { StoredRun } from '../src/report/read.js';
import { median } from '../src/core/numbers.js';
import { durationArg, shareArg } from '../src/core/args.js';
import { BUDGET_LIMITS_S, PRECISION_LIMITS, RUN_DEFAULTS, type PlanInput } from '../src/sweep/plan.js';

// Nine servers of every kind at the run's default loads, in the run's own paired design and budget.
const PLAN = {
  servers: ['events', 'async', 'coroutines', 'events-uv', 'thread-pool', 'native-epoll', 'native-pthreads', 'nginx', 'lighttpd'],
  budgetS: 360,
};
const TARGET_HALF_WIDTH = 0.1;
const NAMES = ['A', 'B', 'C'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    servers: { type: 'string' },
    repeat: { type: 'string' },
    loads: { type: 'string' },
    from: { type: 'string', multiple: true },
    precision: { type: 'string' },
    budget: { type: 'string' },
  },
});
const servers = values.servers?.split(',') ?? PLAN.servers;
const { precision, budgetS } = sharpenFlags();

/** --precision and --budget as `eventbench run` reads them; bad input is one line and exit status 2. */
function sharpenFlags(): { precision?: number; budgetS?: number } {
  try {
    return {
      precision: shareArg('--precision', values.precision, PRECISION_LIMITS.min, PRECISION_LIMITS.max),
      budgetS: durationArg('--budget', values.budget, BUDGET_LIMITS_S.min, BUDGET_LIMITS_S.max),
    };
  } catch (err) {
    process.stderr.write(`bench:repro: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const input: PlanInput = {
  servers,
  ...(values.loads ? { loads: values.loads.split(',').map(Number) } : {}),
  ...(values.repeat !== undefined ? { rounds: Number(values.repeat) } : {}),
  // The closed sweep alone: the memory phase measures something else.
  memory: false,
  ...(precision !== undefined ? { precision } : {}),
  budgetS: budgetS ?? PLAN.budgetS,
  // Every cycle sweeps the reference the table divides by.
  reference: servers.includes('lighttpd') ? 'lighttpd' : 'native-epoll',
};

/** The stored runs to compare: those named after --from, or A, B and C inside the one folder named. */
function storedDirs(from: string[]): string[] {
  const inside = from.length === 1 ? NAMES.map((n) => join(from[0]!, n)) : [];
  return inside.length > 0 && inside.every((d) => existsSync(d)) ? inside : from;
}

/** Measures one run of the plan into `out`, and says how honest its clock was. */
async function measure(name: string, out: string, signal: AbortSignal): Promise<{ stored: StoredRun; clock: string }> {
  const t0 = performance.now();
  const etas: { atS: number; etaS: number }[] = [];
  process.stderr.write(
    `run ${name}: ${input.servers!.join(', ')} at l = ${(input.loads ?? RUN_DEFAULTS.loads).join(', ')}, paired, within ${input.budgetS} s\n`,
  );
  const outcome = await runExperiment({
    input,
    out,
    signal,
    onEvent: (e) => {
      if (e.type === 'added-cycle')
        process.stderr.write(`\r\x1b[K  round ${e.cycle.round}, cycle ${e.cycle.cycle} added: ${e.cycle.servers.join(', ')}\n`);
      if (e.type !== 'point' || e.kept.phase !== 'closed') return;
      if (e.etaS !== undefined) etas.push({ atS: (performance.now() - t0) / 1000, etaS: e.etaS });
      process.stderr.write(`\r\x1b[K  ${e.index + 1}/${e.total} ${e.kept.point.server} @ ${e.kept.point.load} #${e.kept.point.round}`);
    },
  });
  // The honest clock: after the first tenth of the run, how far was "time left" from the truth?
  const totalS = (performance.now() - t0) / 1000;
  const judged = etas
    .filter((x) => x.atS >= totalS / 10 && totalS - x.atS > 5)
    .map((x) => ({ ...x, leftS: totalS - x.atS, error: Math.abs(x.etaS - (totalS - x.atS)) / (totalS - x.atS) }));
  const worst = judged.reduce<(typeof judged)[number] | undefined>((a, x) => (!a || x.error > a.error ? x : a), undefined);
  const clock =
    `run ${name}: ${totalS.toFixed(0)} s; after its first tenth, "time left" was off by at most ` +
    `${(100 * (worst?.error ?? 0)).toFixed(0)}%` +
    `${worst ? ` (at ${worst.atS.toFixed(0)} s: said ${worst.etaS.toFixed(0)} s, ${worst.leftS.toFixed(0)} s were left)` : ''}` +
    `, median ${(100 * (median(judged.map((x) => x.error)) || 0)).toFixed(0)}%; target 25%`;
  const skipped = outcome.info.skipped.map((s) => s.server).join(', ') || 'none';
  process.stderr.write(`\r\x1b[K  run ${name}: ${outcome.points.length} points in ${totalS.toFixed(0)} s; skipped: ${skipped}\n`);
  if (outcome.interrupted) process.exit(130);
  return { stored: readReportRun(outcome.dir), clock };
}

const runs: StoredRun[] = [];
const clocks: string[] = [];
const from = [...(values.from ?? []), ...positionals];
if (from.length > 0) {
  for (const dir of storedDirs(from)) runs.push(readReportRun(dir));
} else {
  const base = mkdtempSync(join(tmpdir(), 'eventbench-repro-'));
  const controller = new AbortController();
  process.on('SIGINT', () => controller.abort());
  for (const name of NAMES) {
    const { stored, clock } = await measure(name, join(base, name), controller.signal);
    runs.push(stored);
    clocks.push(clock);
  }
}
if (runs.length < 2) {
  process.stderr.write(`--from: got ${runs.length} run, the limit is 2 or more; name each run folder, or the folder holding A, B and C\n`);
  process.exit(2);
}
process.stdout.write(compareRuns(runs).join('\n') + '\n');

/** The report: the table of ratios and overlaps, the spreads, the targets. */
function compareRuns(stored: StoredRun[]): string[] {
  const names = stored.map((_, i) => NAMES[i] ?? String(i + 1));
  const reference = stored.every((r) => r.points.some((p) => p.server === 'lighttpd' && p.status === 'ok')) ? 'lighttpd' : 'native-epoll';
  const models = stored.map((r) => buildModel(r, { reference }));
  const servers = [...new Set(models.flatMap((m) => m.servers.map((s) => s.server)))].filter((s) => s !== reference);
  const ratio = (m: ReportModel, server: string) => m.servers.find((s) => s.server === server)?.ratio ?? null;
  const pairs = names.flatMap((_, i) => names.slice(i + 1).map((__, k) => [i, i + 1 + k] as [number, number]));
  const lines = [
    `reference: ${reference} (slope ratios, 95% intervals, cycles paired in time nested in processes; ± is the half-width)`,
    '',
  ];
  const pairNames = pairs.map(([i, j]) => `${names[i]}∩${names[j]}`);
  lines.push(`| server | ${names.map((n) => `run ${n} ratio`).join(' | ')} | ${pairNames.join(' | ')} |`);
  lines.push(`| --- | ${names.map(() => '---:').join(' | ')} | ${pairs.map(() => '---').join(' | ')} |`);
  const apart: string[] = [];
  for (const server of servers) {
    const rs = models.map((m) => ratio(m, server));
    const overlap = pairs.map(([i, j]) => {
      if (!rs[i] || !rs[j]) return '—';
      if (overlaps(rs[i]!, rs[j]!)) return 'yes';
      apart.push(`${server} (${names[i]}, ${names[j]})`);
      return 'NO';
    });
    lines.push(`| ${server} | ${rs.map(intervalText).join(' | ')} | ${overlap.join(' | ')} |`);
  }
  lines.push('', `| server | process spread (${names.join(', ')}) | point spread (${names.join(', ')}) |`, '| --- | --- | --- |');
  for (const server of [...servers, reference]) {
    const c = models.map((m) => m.servers.find((s) => s.server === server)?.components ?? null);
    lines.push(`| ${server} | ${c.map((x) => percent(x?.processRsd)).join(', ')} | ${c.map((x) => percent(x?.pointRsd)).join(', ')} |`);
  }
  const medians = models.map((m) =>
    median(
      servers
        .map((s) => ratio(m, s))
        .filter((r): r is Interval => r !== null)
        .map(halfWidth),
    ),
  );
  const flips = orderChanges(models, servers, pairs, names);
  const each = (f: (i: number) => string) => names.map((n, i) => `${n} ${f(i)}`).join(', ');
  lines.push(
    '',
    `median half-width: ${each((i) => percent(medians[i]))} (target ±10%): ${met(medians.every((h) => h <= TARGET_HALF_WIDTH))}`,
    `every pair of runs' intervals overlaps for every server: ${apart.length === 0 ? 'yes' : `no: ${apart.join(', ')}`}: ` +
      met(apart.length === 0),
    `order changes between servers untied in both runs: ${flips.length === 0 ? 'none' : flips.join(', ')} (target none): ` +
      met(flips.length === 0),
    `processes and cycles per server: ${each((i) => cyclesOf(models[i]!))}`,
    ...stored.map((r, i) => `run ${names[i]}: ${roundsMeasured(r)}`),
    ...clocks,
    `results: ${stored.map((r) => r.dir).join(' ')}`,
  );
  return lines;
}

/** Pairs of servers apart (intervals not overlapping) in both runs of a pair, whose order the two runs disagree on. */
function orderChanges(models: ReportModel[], servers: string[], pairs: [number, number][], names: string[]): string[] {
  const flips: string[] = [];
  const at = (m: ReportModel, s: string) => m.servers.find((x) => x.server === s)?.ratio ?? null;
  for (const [i, j] of pairs) {
    for (const x of servers) {
      for (const y of servers) {
        if (x >= y) continue;
        const [xi, yi, xj, yj] = [at(models[i]!, x), at(models[i]!, y), at(models[j]!, x), at(models[j]!, y)];
        if (!xi || !yi || !xj || !yj || overlaps(xi, yi) || overlaps(xj, yj)) continue;
        if (Math.sign(xi.value - yi.value) !== Math.sign(xj.value - yj.value)) flips.push(`${x} / ${y} (${names[i]}, ${names[j]})`);
      }
    }
  }
  return flips;
}

/** The rounds a run measured (planned, and added where its intervals were widest), and who reached its precision. */
function roundsMeasured(run: StoredRun): string {
  const { plan, addedRounds, addedCycles, precisionOutcome: o, spentS, overBudget } = run.info;
  const added = plan.cycles !== undefined ? (addedCycles?.length ?? 0) : (addedRounds?.length ?? 0);
  const unit = plan.cycles !== undefined ? `round(s) of ${plan.cycles} planned cycle(s)` : 'planned round(s)';
  const rounds = `${plan.rounds} ${unit}${added > 0 ? `, ${added} ${plan.cycles !== undefined ? 'cycle(s)' : 'round(s)'} added` : ''}`;
  const time = spentS !== undefined ? ` in ${Math.round(spentS)} s${plan.budgetS !== undefined ? ` of ${plan.budgetS} s` : ''}` : '';
  const over = overBudget ? ` (over by ${Math.round(overBudget.byS)} s: ${overBudget.why})` : '';
  if (!o) return `${rounds}${time}${over}`;
  const missed = o.missed.map((m) => `${m.server} ${percent(m.halfWidth ?? Infinity)}`).join(', ');
  return (
    `${rounds}${time}${over}; precision ${percent(o.asked)} of every ratio to ${o.reference} reached by ${o.reached.length} ` +
    `of ${o.reached.length + o.missed.length}${missed ? ` (not: ${missed})` : ''}; ${o.stopped}`
  );
}

/** Each server's processes and cycles behind its ratio (the paired design), as `server P×C`, widest first. */
function cyclesOf(model: ReportModel): string {
  return model.servers
    .filter((s) => s.paired && s.paired.cycles > 0)
    .map((s) => `${s.server} ${s.paired!.processes}×${(s.paired!.cycles / s.paired!.processes).toFixed(1)}`)
    .join(', ');
}

function intervalText(i: Interval | null): string {
  if (!i) return '—';
  if (!Number.isFinite(i.hi)) return `${i.value.toFixed(3)} [?]`;
  return `${i.value.toFixed(3)} [${i.lo.toFixed(3)}–${i.hi.toFixed(3)}] ${percent(halfWidth(i))}`;
}

function percent(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return Number.isFinite(x) ? `±${(100 * x).toFixed(0)}%` : '±∞';
}

function met(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}
