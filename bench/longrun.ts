// `npm run bench:longrun`: do the run's short paired points tell a server's long-run rate, as a client that is not
// ours measures it? First a run of the plan (the paired design, its quota chosen from the client's capacity, the
// work each server defers between its sweeps charged to its slope); then each server afresh, as the run starts it
// (its own cgroup under the run's quota on the server's core, warmed at the full core, then throttled), driven for
// 20 s by wrk (one connection per request, `Connection: close`, as ab does; ab where wrk is missing) from the
// client's core. Per server: the run's rate (1000 / its slope in ms per client, Little's law) against wrk's, and its
// ratio to the reference against wrk's ratio. Targets: every rate within 15% of wrk's; every ratio of a C or
// production server within 15% of wrk's.
//   node dist/bench/longrun.js [--servers a,b,...] [--budget 5m] [--seconds 20]
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/experiments/run.js';
import { buildModel, readReportRun } from '../src/report/index.js';
import { localHosts } from '../src/host/local.js';
import { setUpHosts, tearDownHosts } from '../src/sweep/engine.js';
import { serverSpec, sessionWarmUp, trialServer } from '../src/sweep/session.js';
import { findModel } from '../src/servers/registry.js';
import { pinned } from '../src/host/cpus.js';
import { durationArg } from '../src/core/args.js';
import type { Plan } from '../src/results/schema.js';

const { values } = parseArgs({ options: { servers: { type: 'string' }, budget: { type: 'string' }, seconds: { type: 'string' } } });
const servers = values.servers?.split(',') ?? ['lighttpd', 'native-epoll', 'nginx', 'native-pthreads', 'events', 'events-uv', 'coroutines'];
const budgetS = durationArg('--budget', values.budget ?? '5m', 60, 24 * 3600)!;
const seconds = Number(values.seconds ?? 20);
const WITHIN = 0.15;
const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const tool = has('wrk') ? 'wrk' : 'ab';

/** Requests per second the independent client reached over `seconds`, one fresh connection per request. */
function independent(url: string, cpus: string, durationS: number): number {
  if (tool === 'wrk') {
    const argv = pinned(cpus, ['wrk', '-t1', '-c100', `-d${durationS}s`, '-H', 'Connection: close', url]);
    const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  }
  const argv = pinned(cpus, ['ab', '-q', '-c', '100', '-t', String(durationS), '-n', '10000000', url]);
  const out = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1]);
}

/** Each server afresh under the run's quota, warmed as the run warms it, then the independent client for `seconds`. */
async function longRun(plan: Plan): Promise<Map<string, number>> {
  const hosts = localHosts();
  const rates = new Map<string, number>();
  const periodMs = plan.throttlePeriodMs ?? 10;
  await setUpHosts(hosts, { serverCpus: plan.serverCpus, clientCpus: plan.clientCpus, cpuShare: plan.serverCpuShare, periodMs });
  try {
    for (const name of servers) {
      const model = findModel(name);
      if (!model) continue;
      const server = trialServer(model);
      const started = await hosts.server.start({ ...serverSpec(server, plan), throttleAfterWarmUp: true });
      if (started === 'aborted' || 'failed' in started) {
        process.stderr.write(`  ${name}: did not start\n`);
        continue;
      }
      try {
        await hosts.client.warm({ url: started.url, ...sessionWarmUp(plan, 50), jit: server.family === 'typescript' });
        await hosts.server.throttle(started.id);
        independent(started.url, plan.clientCpus, 2);
        rates.set(name, independent(started.url, plan.clientCpus, seconds));
        process.stderr.write(`  ${name}: ${tool} ${rates.get(name)!.toFixed(0)} requests/s over ${seconds} s\n`);
      } finally {
        await hosts.server.stop(started.id);
      }
    }
  } finally {
    await tearDownHosts(hosts);
  }
  return rates;
}

const out = join(mkdtempSync(join(tmpdir(), 'eventbench-longrun-')), 'run');
process.stderr.write(`run: ${servers.join(', ')}, paired, within ${budgetS} s\n`);
const outcome = await runExperiment({ input: { servers, memory: false, budgetS, reference: servers[0]! }, out });
const model = buildModel(readReportRun(outcome.dir));
process.stderr.write(`long runs with ${tool}, ${seconds} s each, at the run's quota of ${outcome.info.plan.serverCpuShare} core\n`);
const long = await longRun(outcome.info.plan);
const reference = model.ratioReference.server!;
const lines = [
  `quota ${outcome.info.plan.serverCpuShare} core; reference ${reference}; the run's rate is 1000 / its charged slope (ms per client)`,
  '',
  `| server | family | run's rate | ${tool}'s rate | run / ${tool} | deferred | run's ratio | ${tool}'s ratio | ratio / ${tool}'s |`,
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const offRate: string[] = [];
const offRatio: string[] = [];
const refLong = long.get(reference);
for (const s of model.servers) {
  const w = long.get(s.server);
  const slope = s.slopeCi?.value ?? null;
  if (w === undefined || slope === null) continue;
  const rate = 1000 / slope;
  const ratio = s.ratio?.value ?? null;
  const wRatio = refLong ? refLong / w : null;
  const r1 = rate / w;
  const r2 = ratio !== null && wRatio !== null ? ratio / wRatio : null;
  if (Math.abs(r1 - 1) > WITHIN) offRate.push(s.server);
  if (r2 !== null && s.family !== 'typescript' && Math.abs(r2 - 1) > WITHIN) offRatio.push(s.server);
  const deferred = s.paired?.deferredShare !== undefined ? `${(100 * s.paired.deferredShare).toFixed(1)}%` : '—';
  lines.push(
    `| ${s.server} | ${s.family} | ${rate.toFixed(0)} | ${w.toFixed(0)} | ${r1.toFixed(3)} | ${deferred} | ${ratio?.toFixed(3) ?? '—'} | ` +
      `${wRatio?.toFixed(3) ?? '—'} | ${r2?.toFixed(3) ?? '—'} |`,
  );
}
lines.push(
  '',
  `every rate within ${WITHIN * 100}% of ${tool}'s: ${offRate.length === 0 ? 'met' : `NOT met (${offRate.join(', ')})`}`,
  `every C and production ratio within ${WITHIN * 100}% of ${tool}'s: ${offRatio.length === 0 ? 'met' : `NOT met (${offRatio.join(', ')})`}`,
  `results: ${outcome.dir}`,
);
process.stdout.write(lines.join('\n') + '\n');
