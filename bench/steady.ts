// `npm run bench:steady`: does the runner measure a fresh server at its steady state? A fresh `events` server is
// measured as `eventbench run` measures it (started, warmed to steady state by the run's rule, settled, one point
// at l = 100); then another fresh one is warmed by brute force (40000 requests) and measured over 20000 requests:
// its long-run steady state. Alternated twice, so that the machine's drift lands on both. Target: the runner's
// throughput within 15% of the long run's.
//   node dist/bench/steady.js [--server events] [--load 100]
import { parseArgs } from 'node:util';
import { findModel } from '../src/servers/registry.js';
import { runTrial } from '../src/sweep/trial.js';
import { benchHosts, throttleText } from './host-setup.js';
import { resolvePlan } from '../src/sweep/plan.js';

const { values } = parseArgs({ options: { server: { type: 'string' }, load: { type: 'string' } } });
const name = values.server ?? 'events';
const load = Number(values.load ?? 100);
const model = findModel(name);
if (!model) throw new Error(`${name} is not a server model`);
const { plan } = await resolvePlan({ servers: [name], loads: [load], rounds: 1 });
const { hosts, host, done } = await benchHosts(plan);
const server = { name, family: model.family };
process.stderr.write(`${name} at l = ${load}, ${throttleText(host)}\n`);

const rows: { round: number; runner: number; runnerWarmup: string; long: number; longThirds: string; longShort: number }[] = [];
try {
  for (let round = 1; round <= 2; round++) {
    const r = await runTrial(hosts, { server, load, round, plan });
    const l = await runTrial(hosts, {
      server,
      load,
      round,
      plan: { ...plan, requests: 20_000, durationS: undefined },
      warmupRequests: 40_000,
    });
    // The same long warm-up, measured for as long as the runner's point: tells the warm-up from the point's length.
    const ls = await runTrial(hosts, { server, load, round, plan, warmupRequests: 40_000 });
    if (r === 'aborted' || l === 'aborted' || ls === 'aborted' || !r.result || !l.result || !ls.result)
      throw new Error(`a point failed: ${JSON.stringify([r, l].map((p) => (p === 'aborted' ? p : p.reason)))}`);
    const w = r.warmup?.session;
    const st = l.result.steadiness;
    rows.push({
      round,
      runner: r.result.throughputRps,
      long: l.result.throughputRps,
      longThirds: st ? `${st.throughputRps[0].toFixed(0)} → ${st.throughputRps[1].toFixed(0)}` : '—',
      longShort: ls.result.throughputRps,
      runnerWarmup: w ? `${w.requests} requests in ${w.durationS.toFixed(1)} s${w.steady ? '' : ' (bound hit)'}` : '?',
    });
    process.stderr.write(
      `round ${round}: runner ${r.result.throughputRps.toFixed(0)} req/s, long run ${l.result.throughputRps.toFixed(0)} req/s\n`,
    );
  }
} finally {
  await done();
}
const lines = [
  '| round | runner req/s (its warm-up) | long run req/s (40000 warm-up, 20000 measured) | long run, first → last third | 40000 warm-up, runner-length point | runner ÷ long |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of rows)
  lines.push(
    `| ${r.round} | ${r.runner.toFixed(0)} (${r.runnerWarmup}) | ${r.long.toFixed(0)} | ${r.longThirds} | ${r.longShort.toFixed(0)} | ${(r.runner / r.long).toFixed(3)} |`,
  );
const worst = Math.max(...rows.map((r) => Math.abs(r.runner / r.long - 1)));
lines.push('', `largest gap: ${(worst * 100).toFixed(1)}% (target within 15%): ${worst <= 0.15 ? 'met' : 'NOT met'}`);
process.stdout.write(lines.join('\n') + '\n');
