// `npm run bench:repro`: does the same plan, run twice back to back, give the same answer? Two runs of one
// documented plan (below), each in rounds as `eventbench run` does; for every server, the ratio of its slope to
// the reference's (lighttpd, else native-epoll) in each run with its 95% interval, and their difference. Target:
// every server within ±10% between the runs, and no change of order between servers that are not tied.
//   node dist/bench/repro.js [--servers a,b,...] [--repeat 4] [--loads 100,500,1000]
//   node dist/bench/repro.js --from /tmp/eventbench-repro-XXXX   (reads the two runs again, measures nothing)
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/sweep/runner.js';
import { buildModel, readReportRun } from '../src/report/index.js';
import { overlaps } from '../src/report/intervals.js';
import type { ReportModel } from '../src/report/model.js';

// Four rounds of three loads rather than three of four: the same 12 points per server, but a fresh server process
// more per server. A TypeScript server's speed varies from one process to the next (V8's choices: one `events`
// process served 5.5k req/s where the others of its run served 3.3-3.9k), and only more processes average it.
const PLAN = {
  servers: ['events', 'async', 'coroutines', 'events-uv', 'thread-pool', 'native-epoll', 'native-pthreads', 'nginx', 'lighttpd'],
  loads: [100, 500, 1000],
  rounds: 4,
};
const { values } = parseArgs({ options: { servers: { type: 'string' }, repeat: { type: 'string' }, loads: { type: 'string' }, from: { type: 'string' } } });
const input = {
  servers: values.servers?.split(',') ?? PLAN.servers,
  loads: values.loads?.split(',').map(Number) ?? PLAN.loads,
  rounds: Number(values.repeat ?? PLAN.rounds),
  // The closed sweep alone: the memory phase measures something else.
  memory: false,
};
const base = values.from ?? mkdtempSync(join(tmpdir(), 'eventbench-repro-'));
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());

const models: ReportModel[] = [];
const clocks: string[] = [];
for (const name of ['A', 'B']) {
  if (values.from) {
    const run = readReportRun(join(base, name));
    const reference = run.points.some((p) => p.server === 'lighttpd') ? 'lighttpd' : 'native-epoll';
    models.push(buildModel(run, { reference }));
    continue;
  }
  const t0 = performance.now();
  const etas: { atS: number; etaS: number }[] = [];
  process.stderr.write(`run ${name}: ${input.servers.join(', ')} at l = ${input.loads.join(', ')}, ${input.rounds} rounds\n`);
  const out = await runExperiment({
    input, out: join(base, name), signal: controller.signal,
    onEvent: (e) => {
      if (e.type !== 'point' || e.kept.phase !== 'closed') return;
      if (e.etaS !== undefined) etas.push({ atS: (performance.now() - t0) / 1000, etaS: e.etaS });
      process.stderr.write(`\r\x1b[K  ${e.index + 1}/${e.total} ${e.kept.point.server} @ ${e.kept.point.load} #${e.kept.point.round}`);
    },
  });
  // The honest clock: after the first tenth of the run, how far was "time left" from the truth?
  const totalS = (performance.now() - t0) / 1000;
  const judged = etas.filter((x) => x.atS >= totalS / 10 && totalS - x.atS > 5)
    .map((x) => ({ ...x, leftS: totalS - x.atS, error: Math.abs(x.etaS - (totalS - x.atS)) / (totalS - x.atS) }));
  const worst = judged.reduce<(typeof judged)[number] | undefined>((a, x) => (!a || x.error > a.error ? x : a), undefined);
  const errors = judged.map((x) => x.error).sort((a, b) => a - b);
  clocks.push(`run ${name}: ${totalS.toFixed(0)} s; after its first tenth, "time left" was off by at most ${(100 * (worst?.error ?? 0)).toFixed(0)}%` +
    `${worst ? ` (at ${worst.atS.toFixed(0)} s: said ${worst.etaS.toFixed(0)} s, ${worst.leftS.toFixed(0)} s were left)` : ''}, median ${(100 * (errors[Math.floor(errors.length / 2)] ?? 0)).toFixed(0)}%; target 25%`);
  process.stderr.write(`\r\x1b[K  run ${name}: ${out.points.length} points in ${((performance.now() - t0) / 1000).toFixed(0)} s; skipped: ${out.info.skipped.map((s) => s.server).join(', ') || 'none'}\n`);
  if (out.interrupted) process.exit(130);
  const reference = input.servers.includes('lighttpd') && !out.info.skipped.some((s) => s.server === 'lighttpd') ? 'lighttpd' : 'native-epoll';
  models.push(buildModel(readReportRun(out.dir), { reference }));
}

const [a, b] = models as [ReportModel, ReportModel];
const fmt = (i: { value: number; lo: number; hi: number } | null) => (i ? `${i.value.toFixed(3)} [${i.lo.toFixed(3)}–${i.hi.toFixed(3)}]` : '—');
const rows = input.servers.map((server) => {
  const sa = a.servers.find((s) => s.server === server);
  const sb = b.servers.find((s) => s.server === server);
  const ra = sa?.ratio ?? null;
  const rb = sb?.ratio ?? null;
  const diff = ra && rb ? rb.value / ra.value - 1 : null;
  return { server, ra, rb, diff };
});
const width = Math.max(...rows.map((r) => r.server.length), 6);
const lines = [`reference: ${a.ratioReference.server} (slope ratios, 95% intervals over the rounds)`, '',
  `| ${'server'.padEnd(width)} | run A ratio | run B ratio | B/A − 1 | intervals overlap |`, `| --- | ---: | ---: | ---: | --- |`];
for (const r of rows) {
  const agree = r.ra && r.rb ? (overlaps(r.ra, r.rb) ? 'yes' : 'NO') : '—';
  lines.push(`| ${r.server.padEnd(width)} | ${fmt(r.ra)} | ${fmt(r.rb)} | ${r.diff === null ? '—' : `${(r.diff * 100).toFixed(1)}%`} | ${agree} |`);
}
const measured = rows.filter((r) => r.diff !== null);
const worst = Math.max(0, ...measured.map((r) => Math.abs(r.diff!)));
// An order change counts only between servers that are not tied (intervals apart) in both runs.
const flips: string[] = [];
for (const x of measured) {
  for (const y of measured) {
    if (x.server >= y.server) continue;
    const apartA = !overlaps(x.ra!, y.ra!);
    const apartB = !overlaps(x.rb!, y.rb!);
    if (apartA && apartB && Math.sign(x.ra!.value - y.ra!.value) !== Math.sign(x.rb!.value - y.rb!.value)) flips.push(`${x.server} / ${y.server}`);
  }
}
lines.push('', `largest difference between the runs: ${(worst * 100).toFixed(1)}% (target ±10%): ${worst <= 0.1 ? 'met' : 'NOT met'}`);
const apart = measured.filter((r) => r.server !== a.ratioReference.server && !overlaps(r.ra!, r.rb!)).map((r) => r.server);
lines.push(`servers whose two intervals do not overlap (each run's interval missed the other run's value): ${apart.length === 0 ? 'none' : apart.join(', ')}`);
lines.push(`order changes between servers not tied: ${flips.length === 0 ? 'none' : flips.join(', ')} (target none): ${flips.length === 0 ? 'met' : 'NOT met'}`);
lines.push(...clocks);
lines.push(`results: ${join(base, 'A')} and ${join(base, 'B')}`);
process.stdout.write(lines.join('\n') + '\n');
