// `npm run bench:openloop`: can the open loop hold a schedule close to what the closed loop can push? A server that
// is not the bottleneck (nginx with one worker, pinned to core 0, unthrottled; else the fastest server eventbench
// has) is measured by the closed loop at -c 10 and -c 50 (the top rate: the higher median requests/s), then by the
// open loop (`eventbench load --rate`, uniform arrivals) at 0.9 of that top rate, the client pinned to core 1.
// Target: the open loop sends at least 0.9 of the closed loop's top rate, with the client's lag p99 under 1 ms.
// Uniform, not poisson: against nginx the CLIENT is the bottleneck of the closed loop (its top rate is the client's
// own), and a client fed poisson arrivals at 0.9 of its capacity is itself an M/D/1 queue whose waits (the lag)
// have a mean of 4.5 service times and a p99 of tens: no client can hold that under 1 ms. Uniform arrivals test
// what this bench is for, whether the client keeps a schedule; `--arrivals poisson` shows the other.
// Every measurement is one point of the runner's own trial code: a fresh server each time.
//   node dist/bench/openloop.js [-n 20000] [--repeat 3] [--server nginx] [--fraction 0.9] [--arrivals uniform]
import { parseArgs } from 'node:util';
import { findModel } from '../src/servers/registry.js';
import { createThrottle, hasTaskset } from '../src/experiment/host.js';
import { EVENTBENCH_BIN, runTrial, type LoadArgs } from '../src/experiment/trial.js';
import { RUN_DEFAULTS } from '../src/experiment/plan.js';
import type { Plan } from '../src/experiment/schema.js';
import type { LoadResult } from '../src/load/types.js';
import { LAG_P99_BOUND_MS } from '../src/load/open-loop.js';

const { values } = parseArgs({ options: { requests: { type: 'string', short: 'n' }, repeat: { type: 'string' }, server: { type: 'string' }, fraction: { type: 'string' }, arrivals: { type: 'string' } } });
const arrivals = values.arrivals ?? 'uniform';
const requests = Number(values.requests ?? 20_000);
const repeat = Number(values.repeat ?? 3);
const fraction = Number(values.fraction ?? 0.9);

async function pickServer(): Promise<string> {
  const candidates = values.server ? [values.server] : ['nginx', 'native-epoll', 'events'];
  for (const name of candidates) {
    const model = findModel(name);
    const a = await model?.available();
    if (a?.ok) return name;
    process.stderr.write(`${name} is not available here${a && !a.ok ? ` (${a.reason})` : ''}\n`);
  }
  throw new Error('no server available');
}

const server = await pickServer();
const model = findModel(server)!;
const throttle = createThrottle(0);
const pin = hasTaskset();
process.stderr.write(`server ${server} on CPU 0, unthrottled; client on CPU 1${pin ? '' : ' (taskset missing: NOT pinned)'}\n`);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const plan = (load: number): Plan => ({ ...RUN_DEFAULTS, servers: [server], loads: [load], requests, durationS: undefined, engine: 'eventbench', serverCpuShare: 0, serverCpus: '0', clientCpus: '1' });

async function measure(label: string, load: number, i: number, loadArgv?: (url: string, a: LoadArgs) => string[]): Promise<LoadResult> {
  const p = await runTrial({ server: { name: server, family: model.family }, load, repeat: i, plan: plan(load), throttle, pin, warmupRequests: 1000, ...(loadArgv ? { loadArgv } : {}) });
  if (p === 'aborted' || !p.result) throw new Error(`${label}: ${p === 'aborted' ? 'aborted' : p.reason}`);
  const r = p.result;
  const lag = r.openLoop ? `, sent ${r.openLoop.sentRps.toFixed(0)} req/s, lag p99 ${r.openLoop.lagMs.percentiles['99']!.toFixed(3)} ms` : '';
  process.stderr.write(`${label.padEnd(22)} ${r.throughputRps.toFixed(0).padStart(6)} req/s, p50 ${r.latencyMs.median.toFixed(3)} ms, p99 ${r.latencyMs.percentiles['99']!.toFixed(3)} ms${lag}, client CPU ${(100 * r.clientCpu.share).toFixed(0)}%, errors ${r.errors.total}\n`);
  return r;
}

const closed: Record<number, number[]> = {};
for (const load of [10, 50]) for (let i = 1; i <= repeat; i++) (closed[load] ??= []).push((await measure(`closed -c ${load}`, load, i)).throughputRps);
const top = Math.max(...Object.values(closed).map(median));
const rate = Math.round(fraction * top);
const openArgv = (url: string, a: LoadArgs) => [process.execPath, EVENTBENCH_BIN, 'load', url, '--rate', String(rate), '--arrivals', arrivals, '-n', String(requests), '--json', '--timeout', String(a.timeoutS), '--trim', String(a.trim)];
const open: LoadResult[] = [];
for (let i = 1; i <= repeat; i++) open.push(await measure(`open --rate ${rate}`, 1, i, openArgv));
throttle.remove();

const sent = median(open.map((r) => r.openLoop!.sentRps));
const lagP99 = median(open.map((r) => r.openLoop!.lagMs.percentiles['99']!));
const held = sent / top;
const out = [
  `server: ${server} (one worker, CPU 0, unthrottled), client on CPU 1; ${requests} requests per run, median of ${repeat}`,
  `closed loop top rate ${top.toFixed(0)} req/s (-c 10: ${median(closed[10]!).toFixed(0)}, -c 50: ${median(closed[50]!).toFixed(0)})`,
  `open loop at ${rate} req/s offered (${fraction} of the top, ${arrivals}): sent ${sent.toFixed(0)} req/s = ${held.toFixed(2)} of the closed loop's top (target ${fraction}), ` +
    `served ${median(open.map((r) => r.throughputRps)).toFixed(0)} req/s, latency p50 ${median(open.map((r) => r.latencyMs.median)).toFixed(3)} ms, p99 ${median(open.map((r) => r.latencyMs.percentiles['99']!)).toFixed(3)} ms, p99.9 ${median(open.map((r) => r.latencyMs.percentiles['99.9']!)).toFixed(3)} ms`,
  `client lag p99 ${lagP99.toFixed(3)} ms (target under ${LAG_P99_BOUND_MS} ms), p99.9 ${median(open.map((r) => r.openLoop!.lagMs.percentiles['99.9']!)).toFixed(3)} ms, client CPU ${(100 * median(open.map((r) => r.clientCpu.share))).toFixed(0)}%`,
  `${held >= fraction - 0.005 && lagP99 < LAG_P99_BOUND_MS ? 'PASS' : 'FAIL'}: ratio sent/top ${held.toFixed(2)}, lag p99 ${lagP99.toFixed(3)} ms`,
];
process.stdout.write(out.join('\n') + '\n');
