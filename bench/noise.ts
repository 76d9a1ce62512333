// `npm run bench:noise`: does the paired design hold its answer on a machine whose speed drifts? The same plan is
// run twice: quiet, then beside a neighbour on the server's core whose appetite drifts, a real-time (SCHED_FIFO)
// process that burns a share of every millisecond, the share redrawn every 15 to 40 s between 0 and 0.8 (a host
// whose other tenant comes and goes). It prints each server's ratio to the reference in both runs with its 95%
// interval, whether they overlap and are within 15% of each other, and each run's median half-width. Targets: every
// server within 15% and overlapping; the drifting run's median half-width ±10% or less.
//   node dist/bench/noise.js [--servers a,b,...] [--loads 100,500,1000] [--budget 6m] [--seed N]
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/experiments/run.js';
import { buildModel, readReportRun } from '../src/report/index.js';
import { halfWidth, overlaps, type Interval } from '../src/core/intervals.js';
import { median } from '../src/core/numbers.js';
import { durationArg } from '../src/core/args.js';
import { seededRandom } from '../src/core/random.js';
import type { ReportModel } from '../src/report/model.js';

const { values } = parseArgs({
  options: { servers: { type: 'string' }, loads: { type: 'string' }, budget: { type: 'string' }, seed: { type: 'string' } },
});
const servers = values.servers?.split(',') ?? [
  'events',
  'coroutines',
  'events-uv',
  'thread-pool',
  'native-epoll',
  'native-pthreads',
  'nginx',
  'lighttpd',
];
const budgetS = durationArg('--budget', values.budget ?? '6m', 60, 24 * 3600)!;
const seed = Number(values.seed ?? 11);
const WITHIN = 0.15;
const TARGET = 0.1;

/**
 * The neighbour: a real-time process on the server's core burning `share` of every millisecond, the share redrawn
 * every 15 to 40 s between 0 and 0.8 (printed on stdout as it changes, with the seconds it holds).
 */
function neighbour(cpus: string, drawSeed: number): ChildProcess {
  const script = `
    const { setTimeout: sleep } = require('node:timers/promises');
    let a = ${drawSeed} >>> 0;
    const random = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const wait = new Int32Array(new SharedArrayBuffer(4));
    (async () => {
      for (;;) {
        const share = 0.8 * random(), holdS = 15 + 25 * random(), until = performance.now() + holdS * 1000;
        console.log(share.toFixed(2) + ' ' + holdS.toFixed(0));
        while (performance.now() < until) {
          const t0 = performance.now();
          while (performance.now() - t0 < share) {}
          Atomics.wait(wait, 0, 0, Math.max(0, 1 - share));
        }
        await sleep(0);
      }
    })();`;
  return spawn('chrt', ['-f', '50', 'taskset', '-c', cpus, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function measure(name: string, drifting: boolean): Promise<ReportModel> {
  const out = join(mkdtempSync(join(tmpdir(), 'eventbench-noise-')), name);
  const loads = values.loads?.split(',').map(Number);
  const input = {
    servers,
    ...(loads ? { loads } : {}),
    memory: false,
    budgetS,
    seed,
    reference: servers.includes('lighttpd') ? 'lighttpd' : servers[0]!,
  };
  process.stderr.write(`run ${name}: ${servers.join(', ')}${drifting ? ', beside a drifting neighbour on the server core' : ', quiet'}\n`);
  const n = drifting ? neighbour('0', seededRandom(seed)() * 2 ** 31) : undefined;
  const shares: string[] = [];
  n?.stdout?.setEncoding('utf8').on('data', (d: string) => shares.push(...d.trim().split('\n')));
  try {
    const t0 = performance.now();
    const outcome = await runExperiment({
      input,
      out,
      onEvent: (e) => {
        if (e.type === 'point' && e.kept.phase === 'closed')
          process.stderr.write(`\r\x1b[K  ${e.index + 1} ${e.kept.point.server} @ ${e.kept.point.load}`);
      },
    });
    process.stderr.write(`\r\x1b[K  run ${name}: ${outcome.points.length} points in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    if (drifting) process.stderr.write(`  the neighbour's shares (share, seconds): ${shares.join('; ')}\n`);
    return buildModel(readReportRun(outcome.dir));
  } finally {
    n?.kill('SIGKILL');
  }
}

const quiet = await measure('quiet', false);
const drift = await measure('drifting', true);
const reference = quiet.ratioReference.server!;
const ratio = (m: ReportModel, s: string) => m.servers.find((x) => x.server === s)?.ratio ?? null;
const text = (i: Interval | null) =>
  !i
    ? '—'
    : !Number.isFinite(i.hi)
      ? `${i.value.toFixed(3)} [?]`
      : `${i.value.toFixed(3)} [${i.lo.toFixed(3)}–${i.hi.toFixed(3)}] ±${(100 * halfWidth(i)).toFixed(0)}%`;
const lines = [
  `reference: ${reference}`,
  '',
  '| server | quiet | drifting | drifting / quiet | overlap |',
  '| --- | ---: | ---: | ---: | --- |',
];
const bad: string[] = [];
for (const s of servers.filter((x) => x !== reference)) {
  const [q, d] = [ratio(quiet, s), ratio(drift, s)];
  const off = q && d ? d.value / q.value : null;
  const ok = q !== null && d !== null && overlaps(q, d) && off !== null && Math.abs(off - 1) <= WITHIN;
  if (!ok) bad.push(s);
  lines.push(
    `| ${s} | ${text(q)} | ${text(d)} | ${off === null ? '—' : off.toFixed(3)} | ${q && d ? (overlaps(q, d) ? 'yes' : 'NO') : '—'} |`,
  );
}
const medianOf = (m: ReportModel) =>
  median(
    servers
      .filter((x) => x !== reference)
      .map((x) => ratio(m, x))
      .filter((r): r is Interval => r !== null)
      .map(halfWidth),
  );
const [mq, md] = [medianOf(quiet), medianOf(drift)];
lines.push(
  '',
  `within ${WITHIN * 100}% and overlapping for every server: ${bad.length === 0 ? 'yes: met' : `no (${bad.join(', ')}): NOT met`}`,
  `median half-width: quiet ±${(100 * mq).toFixed(1)}%, drifting ±${(100 * md).toFixed(1)}% (target ±${TARGET * 100}% drifting): ${md <= TARGET ? 'met' : 'NOT met'}`,
);
process.stdout.write(lines.join('\n') + '\n');
