// `npm run bench:loadgen`: is our client as fast as ApacheBench, and through which transport? A server that is not
// the bottleneck (nginx with one worker, pinned to core 0, unthrottled; else the fastest server eventbench has) is
// loaded by the real `ab` and by `eventbench load` through each transport (src/load/transport.ts), all pinned to core
// 1, in alternating order (the order turns each round, so that no client always runs first), 5 times each at -c 100
// and -c 500 with 30000 requests, untrimmed so that every client counts the same requests. Prints a table: each
// transport × concurrency against ab, the medians' ratios of throughput (target: at least 1.0) and of mean latency.
// Where every client is the bottleneck (unthrottled nginx outruns them all), each one's latency is its own pace
// (Little's law: l / throughput), so the latencies differ as the throughputs do; the last lines therefore compare
// the mean latency with the server throttled to a quarter core at -c 100, where the server sets the pace (target:
// within 10% of ab's), at the run's throttle period (10 ms) and at the kernel's default (100 ms). At 100 ms the
// server runs 25 ms at the full core and can outrun the client in that window: its CPU a request then depends on how
// the client's arrivals bunch (it wakes for each), which a run, at 10 ms, does not meet (nginx slept 0.01 times a
// request there under every client, against 0.2 to 0.5 at 100 ms: counted by hand from its voluntary switches).
// Ends with the transport to make the default (DEFAULT_TRANSPORT in src/load/transport.ts). Every measurement is
// one point of the runner's own trial code: a fresh server each time, warmed by 1000 requests.
//   node dist/bench/loadgen.js [-n 30000] [--repeat 5] [--throttled-repeat 5] [--throttle-periods 10,100] [--server nginx]
//     [--transports epoll,tcp_wrap] [--loads 100,500]
import { parseArgs } from 'node:util';
import { median, unthrottledServer } from './unthrottled.js';
import { geometricInterval } from '../src/core/numbers.js';
import { benchHosts, throttleText } from './host-setup.js';
import type { Hosts } from '../src/host/hosts.js';
import { runTrial } from '../src/sweep/trial.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import type { Plan } from '../src/results/schema.js';
import type { LoadResult } from '../src/load/types.js';
import { DEFAULT_TRANSPORT, TRANSPORT_CHOICES, transportMissing, type TransportName } from '../src/load/transport.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', short: 'n' },
    repeat: { type: 'string' },
    server: { type: 'string' },
    transports: { type: 'string' },
    loads: { type: 'string' },
    'throttled-repeat': { type: 'string' },
    'throttle-periods': { type: 'string' },
  },
});
const requests = Number(values.requests ?? 30_000);
const repeat = Number(values.repeat ?? 5);
const throttledRepeat = Number(values['throttled-repeat'] ?? repeat);
const loads = (values.loads ?? '100,500').split(',').map(Number);
const periods = (values['throttle-periods'] ?? `${RUN_DEFAULTS.throttlePeriodMs},100`).split(',').map(Number);
const asked = (values.transports ?? 'epoll,tcp_wrap').split(',') as TransportName[];
for (const t of asked)
  if (!TRANSPORT_CHOICES.includes(t) || t === ('auto' as string)) throw new Error(`--transports: ${t} is no transport`);
const transports = asked.filter((t) => {
  const why = transportMissing(t);
  if (why) process.stderr.write(`transport ${t} cannot run here: ${why}\n`);
  return why === undefined;
});

/** A client: ab, or eventbench through one transport. */
type Client = 'ab' | TransportName;
const clients: Client[] = ['ab', ...transports];

const { server, model, hosts, done } = await unthrottledServer(values.server);
const results = new Map<string, LoadResult[]>();
/** A throttled measurement's key names the throttle's period (ms); 0: unthrottled. */
const key = (client: Client, load: number, periodMs: number) => `${client} ${load}${periodMs ? ` throttled ${periodMs} ms` : ''}`;

async function measure(on: Hosts, client: Client, load: number, round: number, periodMs: number, count: number): Promise<void> {
  const plan: Plan = {
    ...RUN_DEFAULTS,
    servers: [server],
    loads: [load],
    requests: count,
    durationS: undefined,
    trim: 0,
    engine: client === 'ab' ? 'ab' : 'eventbench',
    ...(client === 'ab' ? {} : { transport: client }),
    serverCpuShare: periodMs ? 0.25 : 0,
    throttlePeriodMs: periodMs || RUN_DEFAULTS.throttlePeriodMs,
    serverCpus: '0',
    clientCpus: '1',
  };
  const p = await runTrial(on, {
    server: { name: server, family: model.family },
    load,
    round,
    plan,
    warmupRequests: 1000,
  });
  if (p === 'aborted' || !p.result) throw new Error(`${client} -c ${load}: ${p === 'aborted' ? 'aborted' : p.reason}`);
  const k = key(client, load, periodMs);
  results.set(k, [...(results.get(k) ?? []), p.result]);
  const r = p.result;
  process.stderr.write(
    `${k.padEnd(24)} ${r.throughputRps.toFixed(0).padStart(6)} req/s, mean ${r.latencyMs.mean.toFixed(3)} ms, client CPU ${(100 * r.clientCpu.share).toFixed(0)}%\n`,
  );
}

/** The clients in the order of round `i`: turned by one each round. */
const turned = (i: number): Client[] => clients.map((_, k) => clients[(k + i) % clients.length]!);

for (const load of loads) for (let i = 1; i <= repeat; i++) for (const c of turned(i)) await measure(hosts, c, load, i, 0, requests);
await done();
const throttles: string[] = [];
for (const periodMs of periods) {
  const throttled = await benchHosts({ serverCpus: '0', clientCpus: '1', serverCpuShare: 0.25, throttlePeriodMs: periodMs });
  try {
    for (let i = 1; i <= throttledRepeat; i++) for (const c of turned(i)) await measure(throttled.hosts, c, 100, i, periodMs, requests / 2);
  } finally {
    await throttled.done();
  }
  throttles.push(throttleText(throttled.host));
}

const med = (k: string, f: (r: LoadResult) => number): number => median((results.get(k) ?? []).map(f));
const rps = (r: LoadResult) => r.throughputRps;
const mean = (r: LoadResult) => r.latencyMs.mean;
const cpu = (r: LoadResult) => r.clientCpu.share;
const out: string[] = [
  `server: ${server} (one worker, CPU 0, unthrottled); clients on CPU 1; ${requests} requests per run, median of ${repeat} alternating runs`,
  '',
  '| client | -c | req/s | ÷ ab | mean ms | ÷ ab | client CPU |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const load of loads) {
  const abRps = med(key('ab', load, 0), rps);
  const abMean = med(key('ab', load, 0), mean);
  for (const c of clients) {
    const k = key(c, load, 0);
    const name = c === 'ab' ? 'ab' : `eventbench (${c})`;
    out.push(
      `| ${name} | ${load} | ${med(k, rps).toFixed(0)} | ${(med(k, rps) / abRps).toFixed(2)} | ${med(k, mean).toFixed(3)} | ${(med(k, mean) / abMean).toFixed(2)} | ${(100 * med(k, cpu)).toFixed(0)}% |`,
    );
  }
}
const percent = (x: number) => `${x >= 1 ? '+' : ''}${(100 * (x - 1)).toFixed(1)}%`;
periods.forEach((periodMs, p) => {
  const run = periodMs === RUN_DEFAULTS.throttlePeriodMs ? " (the run's)" : '';
  out.push('', `-c 100, server ${throttles[p]}${run}: the server sets the pace, so mean latencies should agree within 10%`);
  const abT = med(key('ab', 100, periodMs), mean);
  const abRounds = results.get(key('ab', 100, periodMs)) ?? [];
  for (const t of transports) {
    const k = key(t, 100, periodMs);
    const m = med(k, mean);
    // Also round by round: each round's ratio to ab's in that round, so that the machine's drift between rounds cancels.
    const paired = geometricInterval((results.get(k) ?? []).map((r, i) => mean(r) / mean(abRounds[i]!)));
    const inRounds = paired ? `; round by round ${percent(paired.value)} [${percent(paired.lo)} to ${percent(paired.hi)}]` : '';
    // The server's rate under its quota is the quota over its CPU time a request: what the client's pacing costs it.
    const rate = med(k, rps) / med(key('ab', 100, periodMs), rps);
    const within = Math.abs(m - abT) <= abT / 10 ? 'within' : 'outside';
    out.push(
      `  eventbench (${t}) ${m.toFixed(3)} ms, ab ${abT.toFixed(3)} ms: ${percent(m / abT)} (${within} 10%)${inRounds}; the server served ${rate.toFixed(2)}× ab's req/s`,
    );
  }
});
const worst = (t: TransportName) => Math.min(...loads.map((l) => med(key(t, l, 0), rps) / med(key('ab', l, 0), rps)));
const best = [...transports].sort((a, b) => worst(b) - worst(a))[0];
if (best) {
  out.push(
    '',
    `fastest transport against ab at every load: ${best} (at least ${worst(best).toFixed(2)}× ab's throughput; target 1.00); the default is ${DEFAULT_TRANSPORT}` +
      (best === 'epoll' && DEFAULT_TRANSPORT !== 'auto' ? ': make it auto (src/load/transport.ts DEFAULT_TRANSPORT)' : ''),
  );
}
process.stdout.write(out.join('\n') + '\n');
