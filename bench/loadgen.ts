// `npm run bench:loadgen`: is our client as fast as ApacheBench? A server that is not the bottleneck (nginx with one
// worker, pinned to core 0, unthrottled; else the fastest server eventbench has) is measured by `eventbench load`
// and by the real `ab`, pinned to core 1, alternately, 3 times each at -c 10 and -c 100 with 20000 requests, both
// untrimmed so they count the same requests. Prints the median requests/s of each engine and the ratio
// eventbench/ab (target 0.8), then both engines' mean latency at -c 100 (they should agree within 10%).
// Where both clients are the bottleneck (unthrottled nginx outruns either), each one's latency is its own pace
// (Little's law: l / throughput), so the latencies differ as much as the throughputs; the last line therefore
// repeats the latency comparison with the server throttled to a quarter core, where the server sets the pace.
// Every measurement is one point of the runner's own trial code: a fresh server each time.
//   node dist/bench/loadgen.js [-n 20000] [--repeat 3] [--server nginx]
import { parseArgs } from 'node:util';
import { median, unthrottledServer } from './unthrottled.js';
import { benchHosts, throttleText } from './host-setup.js';
import { runTrial } from '../src/sweep/engine.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import type { Plan } from '../src/results/schema.js';
import type { Engine, LoadResult } from '../src/load/types.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', short: 'n' }, repeat: { type: 'string' }, server: { type: 'string' } },
});
const requests = Number(values.requests ?? 20_000);
const repeat = Number(values.repeat ?? 3);

const { server, model, hosts, done } = await unthrottledServer(values.server);
const results: Record<string, LoadResult[]> = {};
async function measure(key: string, load: number, i: number, engine: Engine, share: number, count: number): Promise<void> {
  const plan: Plan = {
    ...RUN_DEFAULTS,
    servers: [server],
    loads: [load],
    requests: count,
    durationS: undefined,
    trim: 0,
    engine,
    serverCpuShare: share,
    serverCpus: '0',
    clientCpus: '1',
  };
  const p = await runTrial(share ? throttled.hosts : hosts, {
    server: { name: server, family: model.family },
    load,
    round: i,
    plan,
    warmupRequests: 1000,
  });
  if (p === 'aborted' || !p.result) throw new Error(`${engine} -c ${load}: ${p === 'aborted' ? 'aborted' : p.reason}`);
  results[key] ??= [];
  results[key].push(p.result);
  process.stderr.write(
    `${key.padEnd(22)} ${p.result.throughputRps.toFixed(0).padStart(6)} req/s, mean ${p.result.latencyMs.mean.toFixed(3)} ms, client CPU ${(100 * p.result.clientCpu.share).toFixed(0)}%\n`,
  );
}
const throttled = await benchHosts({ serverCpus: '0', clientCpus: '1', serverCpuShare: 0.25, throttlePeriodMs: 100 });
for (const load of [10, 100]) {
  for (let i = 1; i <= repeat; i++)
    for (const engine of ['eventbench', 'ab'] as Engine[]) await measure(`${engine} ${load}`, load, i, engine, 0, requests);
}
for (let i = 1; i <= repeat; i++)
  for (const engine of ['eventbench', 'ab'] as Engine[]) await measure(`${engine} 100 throttled`, 100, i, engine, 0.25, requests / 2);
await throttled.done();
await done();

const out: string[] = [`server: ${server} (one worker, CPU 0, unthrottled); ${requests} requests per run, median of ${repeat}`];
for (const load of [10, 100]) {
  const eb = median(results[`eventbench ${load}`]!.map((r) => r.throughputRps));
  const ab = median(results[`ab ${load}`]!.map((r) => r.throughputRps));
  out.push(
    `-c ${String(load).padEnd(4)} eventbench ${eb.toFixed(0).padStart(6)} req/s   ab ${ab.toFixed(0).padStart(6)} req/s   ratio eventbench/ab ${(eb / ab).toFixed(2)} (target 0.80)`,
  );
}
const ebMean = median(results['eventbench 100']!.map((r) => r.latencyMs.mean));
const abMean = median(results['ab 100']!.map((r) => r.latencyMs.mean));
out.push(
  `-c 100 mean latency: eventbench ${ebMean.toFixed(3)} ms, ab ${abMean.toFixed(3)} ms, differ by ${((100 * Math.abs(ebMean - abMean)) / abMean).toFixed(1)}% (both client-bound: each is l/throughput)`,
);
const ebT = median(results['eventbench 100 throttled']!.map((r) => r.latencyMs.mean));
const abT = median(results['ab 100 throttled']!.map((r) => r.latencyMs.mean));
const how = throttleText(throttled.host);
out.push(
  `-c 100 mean latency, server ${how}: eventbench ${ebT.toFixed(3)} ms, ab ${abT.toFixed(3)} ms, differ by ${((100 * Math.abs(ebT - abT)) / abT).toFixed(1)}% (should be within 10%)`,
);
process.stdout.write(out.join('\n') + '\n');
