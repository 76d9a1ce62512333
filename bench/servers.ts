// `npm run bench:servers`: how fast is each server, as ratios measured in the same run. Every available model is
// pinned to core 0 and throttled to a quarter of it (the runner's host module), and measured with
// `eventbench load -c 100 -n 20000` from core 1 by the runner's own trial code, after the run's warm-up to steady state. Prints requests/s for each, its
// ratio to `events` and to `native-epoll`, and the fastest TypeScript model's ratio to nginx (target: 0.8).
//   node dist/bench/servers.js [--servers a,b,...] [-n 20000] [-c 100] [-t 8] [--engine ab]
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { models } from '../src/servers/registry.js';
import { createThrottle } from '../src/host/throttle.js';
import { hasTaskset } from '../src/host/cpus.js';
import { runTrial } from '../src/sweep/session.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import type { Plan } from '../src/sweep/schema.js';
import type { Engine } from '../src/load/types.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string' }, requests: { type: 'string', short: 'n' }, concurrency: { type: 'string', short: 'c' },
    duration: { type: 'string', short: 't' }, engine: { type: 'string' }, share: { type: 'string' },
  },
});
const load = Number(values.concurrency ?? 100);
const wanted = values.servers?.split(',') ?? models.map((m) => m.name);
const plan: Plan = {
  ...RUN_DEFAULTS,
  loads: [load],
  servers: wanted,
  requests: Number(values.requests ?? 20_000),
  // A time cap too, so that a slow per-connection model cannot hold the bench (and the lock) for minutes.
  durationS: Number(values.duration ?? 8),
  trim: 1000,
  engine: (values.engine ?? 'eventbench') as Engine,
  serverCpuShare: Number(values.share ?? 0.25),
};

const rows: { name: string; family: string; rps?: number; note: string }[] = [];
const throttle = createThrottle(plan.serverCpuShare, plan.throttlePeriodMs);
const pin = hasTaskset();
const stop = () => { throttle.remove(); process.exit(130); };
process.on('SIGINT', stop);
process.stderr.write(`server on CPU ${plan.serverCpus}, ${throttle.mechanism === 'none' ? `UNTHROTTLED (${throttle.reason})` : `throttled to ${plan.serverCpuShare} core (${throttle.mechanism})`}; ` +
  `client: eventbench load -c ${load} -n ${plan.requests} -t ${plan.durationS} --engine ${plan.engine} on CPU ${plan.clientCpus}\n`);
try {
  for (const name of wanted) {
    const model = models.find((m) => m.name === name);
    if (!model) { rows.push({ name, family: '?', note: 'not a server model' }); continue; }
    const a = await model.available();
    if (!a.ok) { rows.push({ name, family: model.family, note: `skipped: ${a.reason}` }); continue; }
    process.stderr.write(`${name}... `);
    const p = await runTrial({ server: { name, family: model.family }, load, repeat: 1, plan, throttle, pin });
    if (p === 'aborted' || p.status === 'failed' || !p.result) {
      const why = p === 'aborted' ? 'aborted' : p.reason ?? 'no result';
      rows.push({ name, family: model.family, note: `failed: ${why}` });
      process.stderr.write(`failed: ${why}\n`);
      continue;
    }
    const r = p.result;
    const notes = [r.errors.total ? `${r.errors.total} errors` : '', r.verdict.clientBound ? `client-bound: ${r.verdict.reasons.join('; ')}` : '',
      r.requestsCompleted < plan.requests! ? `time-capped at ${r.requestsCompleted} requests` : ''].filter(Boolean);
    rows.push({ name, family: model.family, rps: r.throughputRps, note: notes.join('; ') });
    process.stderr.write(`${r.throughputRps.toFixed(0)} req/s\n`);
  }
} finally {
  throttle.remove();
}

const rpsOf = (n: string) => rows.find((r) => r.name === n)?.rps;
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? (a / b).toFixed(2) : '-');
const events = rpsOf('events');
const epoll = rpsOf('native-epoll');
const width = Math.max(6, ...rows.map((r) => r.name.length));
const out = [`${'server'.padEnd(width)}  ${'family'.padEnd(10)}  ${'req/s'.padStart(8)}  ${'/events'.padStart(7)}  ${'/epoll'.padStart(7)}  notes`];
for (const r of rows) {
  out.push(`${r.name.padEnd(width)}  ${r.family.padEnd(10)}  ${(r.rps?.toFixed(0) ?? '-').padStart(8)}  ${ratio(r.rps, events).padStart(7)}  ${ratio(r.rps, epoll).padStart(7)}  ${r.note}`);
}
const fastestTs = rows.filter((r) => r.family === 'typescript' && r.rps !== undefined).sort((a, b) => b.rps! - a.rps!)[0];
const nginx = rpsOf('nginx');
if (fastestTs && nginx) out.push('', `fastest TypeScript model: ${fastestTs.name}, ${ratio(fastestTs.rps, nginx)} of nginx (target 0.8)`);
else if (!nginx) out.push('', 'nginx not measured: no ratio to nginx');
process.stdout.write(out.join('\n') + '\n');
process.stdout.write((await (await import('./user-server.js')).nginxThroughServer()).join('\n') + '\n');
