// `eventbench report A B`: runs side by side (each server's ratio to one reference with its interval in every run,
// whether they overlap, each run's path, hosts and wall time), and the environment of a run made on other hosts.
// Stored runs written by hand (test/helpers/results.ts), read by the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { compareRuns } from '../src/report/compare.js';
import { readReportRun } from '../src/report/index.js';
import type { Point, RunHosts } from '../src/results/schema.js';
import { cli } from './helpers/cli.js';
import { ENVIRONMENT, point, runInfo, writeRun } from './helpers/results.js';

/** Three servers on exact lines, two rounds alike; native-st's slope given (lighttpd's is 0.25 ms per client). */
function points(nativeSlopeMs: number): Point[] {
  const out: Point[] = [];
  for (const round of [1, 2]) {
    for (const l of [100, 200, 300]) {
      out.push(point({ server: 'native-st', family: 'native', paperRow: 'ST', load: l, round, meanLatencyMs: 1 + nativeSlopeMs * l }));
      out.push(point({ server: 'lighttpd', family: 'production', paperRow: 'lighttpd', load: l, round, meanLatencyMs: 2 + 0.25 * l }));
      out.push(point({ server: 'threads', family: 'typescript', paperRow: 'NPTL', load: l, round, meanLatencyMs: 0.5 * l }));
    }
  }
  return out;
}

const HOSTS: RunHosts = {
  path: { kind: 'namespaces', mtu: 1500, rate: '1gbit' },
  server: {
    host: 'ssh://10.208.0.10',
    hostname: 'eb-server',
    environment: ENVIRONMENT,
    address: '10.208.0.10',
    clock: { offsetMs: 1.5, boundMs: 0.1, rttMs: 0.2, probes: 8 },
  },
  clients: [{ host: 'here', hostname: 'runner', environment: ENVIRONMENT }],
};

async function twoRuns(nativeSlopeMs: number): Promise<[string, string]> {
  const servers = ['native-st', 'lighttpd', 'threads'];
  const plan = { ...runInfo(servers, [100, 200, 300]).plan, rounds: 2 };
  const loopback = await writeRun(runInfo(servers, [100, 200, 300], { plan }), points(0.2));
  const twoHosts = await writeRun(
    runInfo(servers, [100, 200, 300], {
      plan,
      hosts: HOSTS,
      startedAt: '2025-01-02T04:00:00.000Z',
      finishedAt: '2025-01-02T04:40:00.000Z',
    }),
    points(nativeSlopeMs),
  );
  return [loopback, twoHosts];
}

test("report A B: each server's ratio to the reference in both runs side by side, whether they overlap, each run's path and hosts", async (t) => {
  const [a, b] = await twoRuns(0.3);
  t.after(() => Promise.all([a, b].map((d) => rm(d, { recursive: true, force: true }))));
  const md = await cli(['report', a, b]);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^# eventbench: 2 runs side by side\n\nevery ratio divides a server's slope by lighttpd's in the same run/);
  assert.ok(md.stdout.includes(': loopback: server and client on one kernel (a run made before hosts were recorded); 1800 s from start'));
  assert.ok(
    md.stdout.includes(
      ': network namespaces of `eventbench hosts up` on one machine: veth links at MTU 1500, shaped by tbf ' +
        'to 1gbit; 2400 s from start to end\n',
    ),
    md.stdout,
  );
  assert.ok(
    md.stdout.includes(
      '\n  - server: ssh://10.208.0.10 (eb-server): Linux 6.1.0-test, Test CPU @ 2.0GHz, 2 CPUs, node v20.20.2, ' +
        "eventbench 0.1.0; clock 1.500 ms ± 0.100 ms from the runner's\n",
    ),
    md.stdout,
  );
  assert.match(md.stdout, /\| server \| ÷ lighttpd in \S+ \| ÷ lighttpd in \S+ \| intervals overlap \|/);
  // Exact lines, rounds alike: every interval is its value (intervalText shows the value alone).
  assert.match(md.stdout, /\| native-st \| 0\.80 \| 1\.20 \| NO \|/);
  assert.match(md.stdout, /\| threads \| 2\.00 \| 2\.00 \| yes \|/);
  assert.match(md.stdout, /The runs disagree on native-st: their intervals do not overlap\./);
  // The paper's claims, a column a run, before the ratios: where the runs' answers to the paper differ.
  assert.ok(md.stdout.indexOf("## The paper's claims, run by run") < md.stdout.indexOf('| server |'), 'the claims come first');
  assert.match(
    md.stdout,
    /\n\| ST as fast as the fastest event servers \(§4, §5\) \| ST 0\.158, CPC 0\.197 ms\/client \| confirmed: native-st 0\.80×; lighttpd 1\.00× \| refuted: native-st 1\.20×; lighttpd 1\.00× \|\n/,
  );
  assert.match(md.stdout, /\nThe verdicts differ on: st-events\.\n/);

  const csv = await cli(['report', a, b, '--format', 'csv']);
  const [head, ...rows] = csv.stdout.trim().split('\n');
  assert.equal(head, 'server,ratio_1,ratio_1_lo,ratio_1_hi,ratio_2,ratio_2_lo,ratio_2_hi,overlap');
  assert.match(rows.find((r) => r.startsWith('native-st'))!, /^native-st,0\.8,[\d.]+,[\d.]+,1\.2,[\d.]+,[\d.]+,false$/);

  const json = JSON.parse((await cli(['report', a, b, '--format', 'json'])).stdout) as ReturnType<typeof compareRuns>;
  assert.equal(json.schema, 'eventbench.compare/1');
  assert.deepEqual(
    (json.claims as { id: string; runs: { verdict: string }[] }[])
      .map((c) => `${c.id}: ${c.runs.map((r) => r.verdict).join(' / ')}`)
      .slice(0, 2),
    ['linear: confirmed / confirmed', 'st-events: confirmed / refuted'],
  );
  assert.equal(json.reference, 'lighttpd');
  assert.deepEqual(
    json.servers.map((s) => [s.server, s.overlap]),
    [
      ['native-st', false],
      ['threads', true],
    ],
  );
  assert.deepEqual(
    json.runs.map((r) => r.wallS),
    [1800, 2400],
  );

  // Agreeing runs agree; a reference measured in only one of them is said, not divided by.
  const [c, d] = await twoRuns(0.2);
  t.after(() => Promise.all([c, d].map((x) => rm(x, { recursive: true, force: true }))));
  assert.match((await cli(['report', c, d])).stdout, /The runs agree: every server's intervals overlap \(2 compared\)\./);
  const missing = compareRuns([readReportRun(c), readReportRun(d)], 'nginx');
  assert.equal(missing.reference, null);
  assert.match(missing.why, /^no reference server is measured in every run \(nginx is not\): choose one with --reference$/);
});

test('report A B refuses what renders one run, in one line; one DIR renders as before, its environment naming the hosts', async (t) => {
  const [a, b] = await twoRuns(0.2);
  t.after(() => Promise.all([a, b].map((d) => rm(d, { recursive: true, force: true }))));
  for (const [args, want] of [
    [
      [a, b, '--format', 'html'],
      'eventbench report: --format: got "html", with several DIRs, expected one of md, json, csv; html renders one run: give one DIR\n',
    ],
    [[a, b, '--table', 'points'], 'eventbench report: --table: got "points", applies to one DIR; several DIRs give one table\n'],
  ] as const) {
    const r = await cli(['report', ...args]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, want);
  }
  const md = await cli(['report', b, '--format', 'md']);
  assert.equal(md.code, 0, md.stderr);
  const env = md.stdout.slice(md.stdout.indexOf('## Environment'));
  assert.ok(
    env.includes(
      '\n- server host: ssh://10.208.0.10 (eb-server): Linux 6.1.0-test, Test CPU @ 2.0GHz, 2 CPUs, node v20.20.2, ' +
        "eventbench 0.1.0; clock 1.500 ms ± 0.100 ms from the runner's; servers listened on 10.208.0.10\n",
    ),
    env,
  );
  assert.ok(env.includes("\n- client host: this machine (runner, the runner's own process): Linux 6.1.0-test"), env);
  assert.ok(
    env.includes(
      '\n- path: network namespaces of `eventbench hosts up` on one machine: veth links at MTU 1500, shaped by tbf to ' + '1gbit\n',
    ),
    env,
  );
  const old = await cli(['report', a, '--format', 'md']);
  assert.doesNotMatch(old.stdout, /server host|path:/, 'a run without hosts shows no hosts');
});
