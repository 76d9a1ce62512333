// `npm run bench:servers`: how fast is each server, as a ratio to native-epoll measured in the same rounds. In each
// round every server is started fresh (a new process), in an order shuffled per round from the seed, pinned to core
// 0 and throttled to a quarter of it, warmed to steady state and measured with `eventbench load -c 100 -n 20000` from
// core 1 by the runner's own trial code. Each round gives each server a ratio of its time per request to
// native-epoll's in that round (native-epoll's req/s ÷ its req/s: above 1 is slower), so the machine's drift between
// rounds cancels; the ratio shown is their geometric mean with a 95% interval (Student's t on the logarithms, over
// the rounds). Then two checks: native-coro, the same loop as native-epoll but for the coroutine, slower by more than
// its interval plus 10% means its loop is not the same loop (issue 22); and the fastest TypeScript model's
// throughput as a fraction of nginx's (target 0.8).
//   node dist/bench/servers.js [--servers a,b,...] [--rounds 3] [-n 20000] [-c 100] [-t 8] [--seed S] [--engine ab]
//   issue 22: --servers native-epoll,native-coro,native-uring,go-nethttp,go-raw,nginx --rounds 6
//   a look at the code path only (numbers mean nothing): -n 300 -t 1 --rounds 2 --warmup-requests 50
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { models } from '../src/servers/registry.js';
import { runTrial } from '../src/sweep/trial.js';
import { benchHosts, throttleText } from './host-setup.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import type { Plan } from '../src/results/schema.js';
import type { Engine } from '../src/load/types.js';
import { geometricInterval, median } from '../src/core/numbers.js';
import { newSeed, shuffled } from '../src/core/random.js';

const REFERENCE = 'native-epoll';
const { values } = parseArgs({
  options: {
    servers: { type: 'string' },
    requests: { type: 'string', short: 'n' },
    concurrency: { type: 'string', short: 'c' },
    duration: { type: 'string', short: 't' },
    engine: { type: 'string' },
    share: { type: 'string' },
    rounds: { type: 'string' },
    seed: { type: 'string' },
    'warmup-requests': { type: 'string' },
  },
});
const load = Number(values.concurrency ?? 100);
const rounds = Number(values.rounds ?? 3);
const seed = Number(values.seed ?? newSeed());
const warmupRequests = values['warmup-requests'] === undefined ? undefined : Number(values['warmup-requests']);
const asked = values.servers?.split(',') ?? models.map((m) => m.name);
const wanted = asked.includes(REFERENCE) ? asked : [REFERENCE, ...asked];
const plan: Plan = {
  ...RUN_DEFAULTS,
  loads: [load],
  servers: wanted,
  requests: Number(values.requests ?? 20_000),
  // A time cap too, so that a slow per-connection model cannot hold the bench (and the lock) for minutes.
  durationS: Number(values.duration ?? 8),
  trim: Math.min(1000, Math.floor(Number(values.requests ?? 20_000) / 10)),
  engine: (values.engine ?? 'eventbench') as Engine,
  serverCpuShare: Number(values.share ?? 0.25),
};

/** What each server did in each round: its req/s, or why there is none. */
const rps = new Map<string, (number | undefined)[]>();
const notes = new Map<string, Set<string>>();
const note = (name: string, text: string) => {
  if (!notes.has(name)) notes.set(name, new Set());
  notes.get(name)!.add(text);
};

async function measure(name: string, round: number): Promise<void> {
  const model = models.find((m) => m.name === name)!;
  process.stderr.write(`round ${round + 1}: ${name}... `);
  const warm = warmupRequests !== undefined ? { warmupRequests } : {};
  const p = await runTrial(hosts, { server: { name, family: model.family }, load, round: round + 1, plan, ...warm });
  if (p === 'aborted' || p.status === 'failed' || !p.result) {
    const why = p === 'aborted' ? 'aborted' : (p.reason ?? 'no result').split('\n')[0]!;
    note(name, `failed: ${why}`);
    process.stderr.write(`failed: ${why}\n`);
    return;
  }
  const r = p.result;
  if (r.verdict.clientBound) note(name, 'client-bound');
  if (r.requestsCompleted < plan.requests!) note(name, 'time-capped');
  process.stderr.write(`${r.throughputRps.toFixed(0)} req/s\n`);
  // Past the run's error cap the rate is not the server's (its clients timed out): no value for this round.
  if (r.errors.total > plan.errorShareCap * (r.requestsCompleted + r.errors.total)) {
    note(name, `${r.errors.total} errors`);
    return;
  }
  rps.get(name)![round] = r.throughputRps;
}

const runnable: string[] = [];
for (const name of wanted) {
  const model = models.find((m) => m.name === name);
  if (!model) {
    note(name, 'not a server model');
    continue;
  }
  const a = await model.available();
  if (!a.ok) {
    note(name, `skipped: ${a.reason}`);
    continue;
  }
  runnable.push(name);
  rps.set(name, []);
}
const { hosts, host, done } = await benchHosts(plan);
process.on('SIGINT', () => {
  void done().then(() => process.exit(130));
});
process.stderr.write(
  `server on CPU ${plan.serverCpus}, ${throttleText(host)}; ` +
    `client: eventbench load -c ${load} -n ${plan.requests} -t ${plan.durationS} --engine ${plan.engine} on CPU ${plan.clientCpus}; ` +
    `${rounds} rounds, seed ${seed}\n`,
);
try {
  for (let round = 0; round < rounds; round++) for (const name of shuffled(runnable, seed + round)) await measure(name, round);
} finally {
  await done();
}

/** Per round, `name`'s time per request over native-epoll's: the reference's req/s over its own. */
const ratiosToReference = (name: string) => {
  const ref = rps.get(REFERENCE) ?? [];
  return (rps.get(name) ?? []).flatMap((x, round) => (x !== undefined && ref[round] !== undefined ? [ref[round]! / x] : []));
};
const fmt = (i: { value: number; lo: number; hi: number } | undefined) =>
  !i ? '-' : Number.isFinite(i.hi) ? `${i.value.toFixed(2)} [${i.lo.toFixed(2)}-${i.hi.toFixed(2)}]` : `${i.value.toFixed(2)} [?]`;
const width = Math.max(6, ...wanted.map((n) => n.length));
const out = [
  `time per request ÷ ${REFERENCE}'s, per round, geometric mean [95% interval over rounds]; above 1 is slower`,
  '',
  `${'server'.padEnd(width)}  ${'family'.padEnd(10)}  ${'req/s'.padStart(8)}  ${`÷ ${REFERENCE}`.padEnd(20)}  rounds  notes`,
];
for (const name of wanted) {
  const measured = (rps.get(name) ?? []).filter((x): x is number => x !== undefined);
  const family = models.find((m) => m.name === name)?.family ?? '?';
  const typical = measured.length ? median(measured).toFixed(0) : '-';
  const ratio = fmt(geometricInterval(ratiosToReference(name)));
  const said = [...(notes.get(name) ?? [])].join('; ');
  const rounds = String(measured.length).padStart(6);
  out.push(`${name.padEnd(width)}  ${family.padEnd(10)}  ${typical.padStart(8)}  ${ratio.padEnd(20)}  ${rounds}  ${said}`);
}
const coro = geometricInterval(ratiosToReference('native-coro'));
if (coro && Number.isFinite(coro.hi)) {
  const verdict =
    coro.lo > 1.1
      ? 'SLOWER by more than its interval plus 10%: its loop is not the same loop, find out why'
      : 'within its interval plus 10% of the same loop';
  out.push('', `native-coro ÷ ${REFERENCE}: ${fmt(coro)}: ${verdict}`);
} else if (runnable.includes('native-coro')) out.push('', 'native-coro: too few rounds measured for an interval (--rounds 2 or more)');
const tsRatios = runnable
  .filter((n) => models.find((m) => m.name === n)?.family === 'typescript')
  .map((n) => {
    const ngx = rps.get('nginx') ?? [];
    const per = (rps.get(n) ?? []).flatMap((x, round) => (x !== undefined && ngx[round] !== undefined ? [x / ngx[round]!] : []));
    return { n, ratio: per.length ? median(per) : undefined };
  })
  .filter((x) => x.ratio !== undefined)
  .sort((a, b) => b.ratio! - a.ratio!);
const fastest = tsRatios[0];
if (fastest) out.push('', `fastest TypeScript model: ${fastest.n}, ${fastest.ratio!.toFixed(2)} of nginx's req/s (median; target 0.8)`);
else if (!runnable.includes('nginx')) out.push('', 'nginx not measured: no ratio to nginx');
process.stdout.write(out.join('\n') + '\n');
// nginx as a user's server beside the built-in one (70 s more): when nginx is among the servers asked for.
if (runnable.includes('nginx')) process.stdout.write((await (await import('./user-server.js')).nginxThroughServer()).join('\n') + '\n');
else process.stdout.write("nginx as a user's server: not measured (nginx is not among --servers; alone: node dist/bench/user-server.js)\n");
