// `npm run bench:runtimes`: every TypeScript model under every runtime it runs under (Node, Bun, Deno), plus each
// runtime's own server (bun-serve, deno-serve), each as a ratio to nginx measured in the same run. Each server is
// started fresh, pinned to core 0 under a quarter core at the run's 10 ms period, warmed to steady state and
// measured at -c 100 by the runner's own trial code (runTrial). nginx is measured again after every few servers,
// and each server's ratio is to the mean of the nginx measurements just before and just after it, so that the
// machine's drift lands on both alike. Target: the fastest TypeScript server on any runtime at 1.0× nginx or more.
//   node dist/bench/runtimes.js [--servers events,node-http] [--runtimes node,bun,deno] [-n 10000] [-t 4] [--every 4]
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { models, runtimeVariant, withRuntimes } from '../src/servers/registry.js';
import { RUNTIMES, isRuntime, runtimeInfo, type RuntimeName } from '../src/servers/runtime.js';
import { runTrial } from '../src/sweep/trial.js';
import { benchHosts, throttleText } from './host-setup.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import type { Plan } from '../src/results/schema.js';
import { runtimeTable, type RuntimeCell } from '../src/report/runtimes.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string' },
    runtimes: { type: 'string' },
    requests: { type: 'string', short: 'n' },
    duration: { type: 'string', short: 't' },
    every: { type: 'string' },
    reference: { type: 'string' },
  },
});
const load = 100;
const runtimes = (values.runtimes?.split(',') ?? [...RUNTIMES]).filter(isRuntime) as RuntimeName[];
const base = values.servers?.split(',') ?? models.filter((m) => m.family === 'typescript').map((m) => m.name);
const names = withRuntimes(base, runtimes);
const reference = values.reference ?? 'nginx';
const every = Number(values.every ?? 4);
const plan: Plan = {
  ...RUN_DEFAULTS,
  loads: [load],
  servers: [...names, reference],
  requests: Number(values.requests ?? 10_000),
  // A time cap too, so that a slow per-connection model cannot hold the bench (and the lock) for minutes.
  durationS: Number(values.duration ?? 4),
};

const { hosts, host, done } = await benchHosts(plan);
process.on('SIGINT', () => {
  void done().then(() => process.exit(130));
});
process.stderr.write(
  `server on CPU ${plan.serverCpus}, ${throttleText(host)}; ` +
    `client: eventbench load -c ${load} -n ${plan.requests} -t ${plan.durationS} on CPU ${plan.clientCpus}; ${reference} every ${every} servers\n`,
);
process.stderr.write(
  `runtimes: ${runtimes
    .map((r) => {
      const i = runtimeInfo(r);
      return i.version ? `${r} ${i.version}` : `${r} (missing: ${i.missing})`;
    })
    .join(', ')}\n`,
);

type Measured = { rps?: number; note: string };
async function measure(name: string): Promise<Measured> {
  const model = models.find((m) => m.name === name) ?? runtimeVariant(name);
  if (!model) return { note: 'not a server model' };
  const a = await model.available();
  if (!a.ok) return { note: `skipped: ${a.reason}` };
  process.stderr.write(`${name}... `);
  const p = await runTrial(hosts, { server: { name, family: model.family }, load, round: 1, plan });
  if (p === 'aborted' || p.status === 'failed' || !p.result) {
    const why = p === 'aborted' ? 'aborted' : (p.reason ?? 'no result');
    process.stderr.write(`failed: ${why.split('\n')[0]}\n`);
    return { note: `failed: ${why.split('\n')[0]}` };
  }
  const r = p.result;
  const notes = [
    r.errors.total ? `${r.errors.total} errors` : '',
    r.verdict.clientBound ? 'client-bound' : '',
    r.requestsCompleted < plan.requests! ? `time-capped at ${r.requestsCompleted} requests` : '',
  ].filter(Boolean);
  process.stderr.write(`${r.throughputRps.toFixed(0)} req/s\n`);
  // Past the run's error cap the rate is not the server's (its clients timed out): no cell, the reason instead.
  if (r.errors.total > plan.errorShareCap * (r.requestsCompleted + r.errors.total)) return { note: `no rate: ${notes.join('; ')}` };
  return { rps: r.throughputRps, note: notes.join('; ') };
}

// nginx, then `every` servers, then nginx again, ...: each server is bracketed by two reference measurements.
const refs: number[] = [];
const rows: { name: string; m: Measured; refIndex: number }[] = [];
try {
  const ref = async () => {
    const m = await measure(reference);
    refs.push(m.rps ?? NaN);
  };
  await ref();
  for (let i = 0; i < names.length; i++) {
    rows.push({ name: names[i]!, m: await measure(names[i]!), refIndex: refs.length - 1 });
    if ((i + 1) % every === 0 || i === names.length - 1) await ref();
  }
} finally {
  await done();
}

const mean = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : undefined;
};
const cells: RuntimeCell[] = rows.map(({ name, m, refIndex }) => {
  const refRps = mean([refs[refIndex]!, refs[refIndex + 1] ?? NaN]);
  return { server: name, rps: m.rps, ratio: m.rps !== undefined && refRps ? m.rps / refRps : undefined, note: m.note };
});
const lines = [
  `${reference} (req/s, each measurement in order): ${refs.map((r) => (Number.isFinite(r) ? r.toFixed(0) : 'failed')).join(', ')}`,
  '',
  runtimeTable(cells, `÷ ${reference}`),
];
const best = cells.filter((c) => c.ratio !== undefined).sort((a, b) => b.ratio! - a.ratio!)[0];
if (best)
  lines.push(
    '',
    `fastest TypeScript server on any runtime: ${best.server}, ${best.ratio!.toFixed(2)}× ${reference} (target 1.0): ${best.ratio! >= 1 ? 'MET' : 'NOT MET'}`,
  );
else lines.push('', `no ratio to ${reference}: it or every server failed`);
process.stdout.write(lines.join('\n') + '\n');
