// `npm run bench:hosts`: does eventbench give the same answers over a real network path, and do merged agents
// measure what one agent measures? The bench makes its own hosts (`eventbench hosts up --clients 2 --rate 1gbit`:
// a server namespace and two client namespaces on a bridge at MTU 1500, tbf at 1 Gbit/s, the paper's Ethernet)
// and brings them down at the end, whatever happens (hosts already up as it asks are used, and left up).
//  (a) One plan (events, native-epoll and nginx at l = 100 and 500, three rounds, the closed sweep alone) run
//      twice: over loopback, then with the server in the server namespace over SSH (run --server-host), the client
//      here. Each server's ratio to nginx with its 95% interval in both set-ups, and whether they overlap
//      (target: every server); the two wall times (target: the two-host run at most 1.25x the loopback run).
//  (b) An unthrottled nginx in the server namespace (pinned to core 0), driven by one agent here at c=100, then
//      by the two client namespaces' agents at c=50 each, the two set-ups alternated `--repeat` times. Targets: the
//      merged throughput and mean within 10% of the single agent's, p99 within 15%, l_m within 1% of 100.
//  Each host's measured clock offset and its bound are printed too.
//    node dist/bench/hosts.js [--repeat 3] [--seconds 5]
//    node dist/bench/hosts.js --smoke    (tiny counts, proves the code path in about a minute; its numbers mean nothing)
// The npm script takes /tmp/eventbench-bench.lock so that no other measurement runs at the same time.
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../src/experiments/run.js';
import type { RunOutcome } from '../src/experiments/run.js';
import { readReportRun } from '../src/report/index.js';
import { compareRuns, comparisonMarkdown } from '../src/report/compare.js';
import { hostsDown, hostsUp, namespacesUnavailable, type HostsState } from '../src/host/namespaces.js';
import { AgentLinks, parseHostSpec, type AgentLink } from '../src/host/link.js';
import { Reconnecting, RemoteClientHost, RemoteServerHost } from '../src/host/remote.js';
import { loadOnAgents } from '../src/host/agents-load.js';
import { splitLoad } from '../src/load/merge.js';
import type { LoadResult } from '../src/load/types.js';
import { RUN_DEFAULTS } from '../src/sweep/plan.js';
import { mean } from '../src/core/numbers.js';

const PLAN = { servers: ['events', 'native-epoll', 'nginx'], loads: [100, 500], rounds: 3 };
const SMOKE_PLAN = { servers: ['events', 'nginx'], loads: [10, 20], rounds: 2, quick: true };
const REFERENCE = 'nginx';
const TARGETS = { wallRatio: 1.25, throughput: 0.1, mean: 0.1, p99: 0.15, measuredLoad: 0.01 };
const LOAD = 100;

const { values } = parseArgs({ options: { smoke: { type: 'boolean' }, repeat: { type: 'string' }, seconds: { type: 'string' } } });
const smoke = values.smoke === true;
const repeat = Number(values.repeat ?? (smoke ? 1 : 3));
const seconds = Number(values.seconds ?? (smoke ? 1 : 5));

/** (a): the plan over loopback, then with the server over SSH; ratios side by side, wall times. */
async function sameAnswers(server: string): Promise<string[]> {
  const base = mkdtempSync(join(tmpdir(), 'eventbench-bench-hosts-'));
  const input = { ...(smoke ? SMOKE_PLAN : PLAN), memory: false };
  const measured: { outcome: RunOutcome; wallS: number }[] = [];
  for (const [name, hostsInput] of [
    ['loopback', {}],
    ['two-hosts', { serverHost: server }],
  ] as const) {
    say(`(a) ${name}: ${input.servers.join(', ')} at l = ${input.loads.join(', ')}, ${input.rounds} rounds`);
    const t0 = performance.now();
    const outcome = await runExperiment({
      input,
      hostsInput,
      out: join(base, name),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type !== 'point' || e.kept.phase !== 'closed') return;
        say(`  ${e.index + 1}/${e.total} ${e.kept.point.server} @ ${e.kept.point.load}`);
      },
    });
    if (outcome.interrupted) throw new Error('interrupted');
    measured.push({ outcome, wallS: (performance.now() - t0) / 1000 });
  }
  const c = compareRuns(
    measured.map((m) => readReportRun(m.outcome.dir)),
    REFERENCE,
  );
  const [loop, two] = measured.map((m) => m.wallS) as [number, number];
  const hosts = measured[1]!.outcome.info.hosts!;
  return [
    `## (a) The same plan over loopback and with the server on another host (${base})`,
    '',
    comparisonMarkdown(c),
    `Wall time: loopback ${loop.toFixed(0)} s, two hosts ${two.toFixed(0)} s: ${(two / loop).toFixed(2)}x ` +
      `(target: at most ${TARGETS.wallRatio}x) ${two / loop <= TARGETS.wallRatio ? 'MET' : 'MISSED'}`,
    `Overlap: ${c.servers.filter((s) => s.overlap === true).length} of ${c.servers.length} servers ` +
      `(target: every server) ${c.servers.every((s) => s.overlap === true) ? 'MET' : 'MISSED'}`,
    `Clock of ${hosts.server.host}: offset ${clockText(hosts.server.clock!.offsetMs, hosts.server.clock!.boundMs)}`,
  ];
}

const clockText = (offsetMs: number, boundMs: number) => `${offsetMs.toFixed(3)} ms ± ${boundMs.toFixed(3)} ms`;

interface Figures {
  rps: number;
  meanMs: number;
  p99Ms: number;
  lm: number;
}

const figures = (r: LoadResult): Figures => ({
  rps: r.throughputRps,
  meanMs: r.latencyMs.mean,
  p99Ms: r.latencyMs.percentiles['99'] ?? NaN,
  lm: r.measuredLoad,
});

/** (b): an unthrottled nginx in the server namespace, one agent here at c=100 against two client namespaces at 50 each. */
async function mergedAgents(server: string, clients: string[]): Promise<string[]> {
  const links = new AgentLinks();
  try {
    const [serverLink, here, ...far] = await links.open([server, 'local', ...clients].map((h) => parseHostSpec(h)));
    const noReconnect = () => Promise.reject(new Error('the link died: run the bench again'));
    const host = new RemoteServerHost(new Reconnecting(serverLink!, noReconnect), serverLink!.hello!.ssh?.serverAddress);
    await host.setUp({ cpus: RUN_DEFAULTS.serverCpus, cpuShare: 0, periodMs: RUN_DEFAULTS.throttlePeriodMs });
    const spec = { name: REFERENCE, family: 'production' as const, serveFlags: ['--port', '0'], backlog: 4096, readyTimeoutMs: 60_000 };
    const started = await host.start(spec);
    if (started === 'aborted' || 'failed' in started) throw new Error(`${REFERENCE} did not start: ${JSON.stringify(started)}`);
    // Each agent's loads run in its own process: pinned to the client's core on its host, as a run pins its client.
    for (const l of [here!, ...far]) await new RemoteClientHost(new Reconnecting(l, noReconnect)).setUp({ cpus: RUN_DEFAULTS.clientCpus });
    const one = async (agents: AgentLink[]) => {
      const shares = splitLoad({ concurrency: LOAD, trim: 1000 }, agents.length);
      const options = { url: started.url, concurrency: LOAD, durationS: seconds, timeoutS: 10, trim: 1000 };
      return (await loadOnAgents(agents, shares, options, controller.signal)).result;
    };
    say(`(b) warming ${REFERENCE} at ${started.url}`);
    await one([here!]);
    const single: LoadResult[] = [];
    const merged: LoadResult[] = [];
    for (let i = 1; i <= repeat; i++) {
      single.push(await one([here!]));
      merged.push(await one(far));
      const rps = (r: LoadResult[]) => `${r.at(-1)!.throughputRps.toFixed(0)} req/s`;
      say(`  round ${i}/${repeat}: one agent ${rps(single)}, two ${rps(merged)}`);
    }
    await host.tearDown();
    return mergedTable(single.map(figures), merged.map(figures), merged.at(-1)!);
  } finally {
    await links.closeAll();
  }
}

function mergedTable(single: Figures[], merged: Figures[], last: LoadResult): string[] {
  const avg = (xs: Figures[], k: keyof Figures) => mean(xs.map((x) => x[k]));
  const rows: [string, keyof Figures, number, number][] = [
    ['throughput, req/s', 'rps', TARGETS.throughput, 0],
    ['mean, ms', 'meanMs', TARGETS.mean, 2],
    ['p99, ms', 'p99Ms', TARGETS.p99, 2],
  ];
  const out = [
    `## (b) An unthrottled ${REFERENCE}: one agent at c=${LOAD} against two client hosts at c=${LOAD / 2} each ` +
      `(${repeat} rounds of ${seconds} s, means over the rounds)`,
    '',
    '| figure | one agent | two agents, merged | difference | target | |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [label, k, target, digits] of rows) {
    const s = avg(single, k);
    const m = avg(merged, k);
    const diff = (m - s) / s;
    out.push(
      `| ${label} | ${s.toFixed(digits)} | ${m.toFixed(digits)} | ${(100 * diff).toFixed(1)}% | ±${target * 100}% | ` +
        `${Math.abs(diff) <= target ? 'MET' : 'MISSED'} |`,
    );
  }
  const lm = avg(merged, 'lm');
  const lmOff = Math.abs(lm - LOAD) / LOAD;
  out.push(
    `| l_m (merged) | ${avg(single, 'lm').toFixed(2)} | ${lm.toFixed(2)} | ${(100 * lmOff).toFixed(2)}% from ${LOAD} | ` +
      `±${TARGETS.measuredLoad * 100}% of ${LOAD} | ${lmOff <= TARGETS.measuredLoad ? 'MET' : 'MISSED'} |`,
    '',
  );
  for (const p of last.agents!.parts) {
    out.push(
      `Clock of ${p.host} (${p.hostname}): offset ${clockText(p.clockOffsetMs, p.clockBoundMs)}; ` +
        `started ${p.startLagMs.toFixed(2)} ms after the scheduled instant`,
    );
  }
  const { startSpreadMs, startSpreadLimitMs } = last.agents!;
  out.push(`Start spread of the last merged load: ${startSpreadMs.toFixed(2)} ms (limit ${startSpreadLimitMs.toFixed(1)} ms)`);
  return out;
}

// The bench itself, once every function above is defined.
const why = namespacesUnavailable();
if (why) {
  process.stderr.write(`bench:hosts needs network namespaces with sshd: ${why}\n`);
  process.exit(1);
}
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
const say = (line: string) => process.stderr.write(`${line}\n`);

let state: HostsState & { already?: true };
try {
  state = await hostsUp({ clients: 2, rate: '1gbit' });
} catch (err) {
  say(`bench:hosts: ${(err as Error).message}`);
  process.exit(1);
}
const [serverHost, ...clientHosts] = state.hosts.map((h) => h.url);
try {
  const a = await sameAnswers(serverHost!);
  const b = await mergedAgents(serverHost!, clientHosts);
  process.stdout.write([...a, '', ...b].join('\n') + '\n');
} finally {
  // Hosts that were up before the bench (as it asks for them) are the user's: left up.
  if (!state.already) for (const line of await hostsDown()) say(`hosts down: ${line}`);
}
