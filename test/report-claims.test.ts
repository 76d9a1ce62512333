// The paper's claims judged by a run's ratio intervals (src/report/claims.ts): told apart only where the intervals
// do not overlap, "not decided" where a strict order meets an overlap, "not in this run" where its servers did not
// run, "not measured in this run" where the run did not test it (the backlog, the memory phase).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerSummary } from '../src/analysis/summary.js';
import type { Interval } from '../src/core/intervals.js';
import type { Family } from '../src/results/schema.js';
import { paperClaims, type Claim, type ClaimInput } from '../src/report/claims.js';
import { paperRow } from '../src/servers/paper.js';
import { runInfo } from './helpers/results.js';

type Ratio = [value: number, lo: number, hi: number];

/** A ranked server with the ratio interval given, on a straight line (r 0.9999) fitted on five loads. */
function server(name: string, family: Family, row: string | undefined, ratio: Ratio | null, r = 0.9999): ServerSummary {
  const iv: Interval | null = ratio ? { value: ratio[0], lo: ratio[1], hi: ratio[2] } : null;
  return {
    server: name,
    family,
    ...(row ? { paperRow: row, paperStyle: paperRow(row)!.style } : {}),
    loads: [],
    notMeasured: [],
    latencyFit: ratio ? { slope: 0.1 * ratio[0], intercept: 1, r, n: 5 } : null,
    impliedRps: null,
    slopeCi: null,
    ratio: iv,
    components: null,
    rank: ratio ? 1 : null,
    group: ratio ? 1 : null,
    tiedWith: [],
    requests: 1000,
    errors: 0,
    flags: [],
  };
}

function input(servers: ServerSummary[], plan: Partial<ClaimInput['plan']> = {}): ClaimInput {
  const info = runInfo(
    servers.map((s) => s.server),
    [10, 100, 250, 500, 1000],
  );
  return { servers, plan: { ...info.plan, ...plan }, host: info.host };
}

const claim = (i: ClaimInput, id: Claim['id']): Claim => paperClaims(i).find((c) => c.id === id)!;

test('the toy servers\' order: each "<" decided only where the intervals are apart, a missing row spanned by the strictest step', () => {
  const toys = [
    server('native-st', 'native', 'ST', [0.8, 0.7, 0.9]),
    server('native-pth', 'native', 'Pth', [1.4, 1.3, 1.5]),
    server('native-pthreads', 'native', 'NPTL', [1.6, 1.2, 2.0]),
    server('native-fork', 'native', 'fork', [9, 8, 10]),
    // The TypeScript answer to CPC is not a toy server of the paper's kind: the C ones are compared.
    server('async', 'typescript', 'CPC', [5, 4.9, 5.1]),
  ];
  const c = claim(input(toys), 'toy-order');
  assert.equal(c.verdict, 'confirmed');
  // ST < [CPC] < Pth: across the missing CPC the relation is the strictest of the two steps, "<".
  assert.equal(c.now, 'ST 0.80× [0.70–0.90] < Pth 1.40× [1.30–1.50] ≈ NPTL 1.60× [1.20–2.00] < fork 9.00× [8.00–10.00]');
  assert.equal(c.why, 'every step holds (native-st, native-pth, native-pthreads, native-fork); no native server answers CPC here');

  toys[1] = server('native-pth', 'native', 'Pth', [0.85, 0.75, 1.0]);
  toys[2] = server('native-pthreads', 'native', 'NPTL', [1.1, 0.95, 1.6]);
  const open = claim(input(toys), 'toy-order');
  assert.equal(open.verdict, 'not decided', 'ST and Pth overlap: "<" is not decided');
  assert.match(open.why, /^ST \(native-st\) tied with Pth \(native-pth\) \(the intervals overlap\)/);

  toys[2] = server('native-pthreads', 'native', 'NPTL', [3, 2.5, 3.5]);
  const refuted = claim(input(toys), 'toy-order');
  assert.equal(refuted.verdict, 'refuted', 'Pth ≈ NPTL with the intervals apart is refuted, and a refuted step outweighs an open one');
  assert.match(refuted.why, /^Pth \(native-pth\) faster than NPTL \(native-pthreads\) \(the intervals do not overlap\)/);
});

test('a claim whose servers did not run says so; a server without an interval leaves it undecided', () => {
  const alone = input([server('native-st', 'native', 'ST', [0.8, 0.7, 0.9])]);
  assert.equal(claim(alone, 'toy-order').verdict, 'not in this run');
  assert.equal(claim(alone, 'production-order').verdict, 'not in this run');
  assert.equal(claim(alone, 'compiled-events').verdict, 'not in this run');
  assert.equal(claim(alone, 'st-events').verdict, 'not in this run');
  const unbounded = input([
    server('native-st', 'native', 'ST', [0.8, 0, Infinity]),
    server('lighttpd', 'production', 'lighttpd', [1, 1, 1]),
  ]);
  assert.equal(claim(unbounded, 'st-events').verdict, 'not decided');
});

test('ST against the fastest event server: tied or faster confirms, slower refutes; events are declared or of an event row', () => {
  const st = server('native-st', 'native', 'ST', [0.8, 0.7, 0.9]);
  const tied = input([
    st,
    server('native-epoll', 'native', undefined, [0.85, 0.8, 0.95]),
    server('lighttpd', 'production', 'lighttpd', [1, 1, 1]),
  ]);
  const c = claim(tied, 'st-events');
  assert.equal(c.verdict, 'confirmed');
  assert.equal(c.now, 'native-st 0.80× [0.70–0.90]; native-epoll 0.85× [0.80–0.95]');
  assert.equal(c.why, 'native-st tied with native-epoll, the fastest event server here (the intervals overlap)');
  const slower = input([st, server('h2o', 'production', 'Polipo', [0.5, 0.45, 0.55])]);
  assert.equal(claim(slower, 'st-events').verdict, 'refuted');
  // The fastest by its estimate overlaps ST, but another event server's narrow interval is surely faster: refuted.
  const wide = input([
    st,
    server('events-uv', 'typescript', 'thttpd', [0.5, 0.3, 0.85]),
    server('h2o', 'production', 'Polipo', [0.6, 0.55, 0.65]),
  ]);
  assert.deepEqual(
    [claim(wide, 'st-events').verdict, claim(wide, 'st-events').why],
    ['refuted', 'native-st slower than h2o, an event server surely faster (the intervals do not overlap)'],
  );
  const faster = input([st, server('lighttpd', 'production', 'lighttpd', [1, 1, 1])]);
  assert.equal(claim(faster, 'st-events').why, 'native-st is faster than every event server here');
});

test('compiler-made events against their hand-written twin, the same loop or the same runtime', () => {
  const servers = [
    server('native-coro', 'native', 'CPC', [1.2, 1.1, 1.3]),
    server('native-epoll', 'native', undefined, [1, 0.95, 1.05]),
    server('async@bun', 'typescript', 'CPC', [2, 1.8, 2.2]),
    server('events@bun', 'typescript', 'thttpd', [2.1, 1.9, 2.3]),
    server('events', 'typescript', 'thttpd', [1.5, 1.4, 1.6]),
  ];
  const c = claim(input(servers), 'compiled-events');
  assert.equal(c.verdict, 'refuted', 'native-coro is slower than native-epoll');
  assert.equal(
    c.now,
    'native-epoll 1.00× [0.95–1.05]: native-coro 1.20× [1.10–1.30]; events@bun 2.10× [1.90–2.30]: async@bun 2.00× [1.80–2.20]',
  );
  assert.equal(
    c.why,
    'native-coro slower than native-epoll; async@bun tied with events@bun (the intervals do not overlap; the intervals overlap)',
  );
  servers[0] = server('native-coro', 'native', 'CPC', [1.02, 0.97, 1.08]);
  assert.equal(claim(input(servers), 'compiled-events').verdict, 'confirmed');
});

test('the production order: "≲" holds when tied, "<" needs the intervals apart', () => {
  const servers = [
    server('lighttpd', 'production', 'lighttpd', [1, 1, 1]),
    server('h2o', 'production', 'Polipo', [0.9, 0.8, 1.1]),
    server('nginx', 'production', 'thttpd', [1.5, 1.3, 1.7]),
    server('apache-prefork', 'production', 'Apache', [4, 3, 5]),
    // A TypeScript answer to Apache is no production server.
    server('thread-pool', 'typescript', 'Apache', [1.2, 1.1, 1.3]),
  ];
  const c = claim(input(servers), 'production-order');
  assert.equal(c.verdict, 'confirmed');
  assert.equal(c.now, 'lighttpd 1.00× ≈ Polipo 0.90× [0.80–1.10] < thttpd 1.50× [1.30–1.70] < Apache 4.00× [3.00–5.00]');
});

test('latency linear in the load: every line r ≥ 0.99 confirms, a bent one refutes (Apache excepted, as in the paper)', () => {
  const straight = [server('a', 'native', undefined, [1, 0.9, 1.1], 0.9985), server('b', 'native', undefined, [2, 1.9, 2.1], 0.99995)];
  const c = claim(input(straight), 'linear');
  assert.deepEqual([c.verdict, c.now], ['confirmed', 'r > 0.999 for 1 of 2; lowest 0.9985 (a)']);
  const apache = [...straight, server('apache-worker', 'production', 'Apache', [4, 3, 5], 0.95)];
  assert.equal(claim(input(apache), 'linear').why, 'every fitted line has r ≥ 0.99, but for Apache, as in the paper');
  const bent = [...straight, server('c', 'native', undefined, [3, 2.9, 3.1], 0.97)];
  assert.deepEqual(
    [claim(input(bent), 'linear').verdict, claim(input(bent), 'linear').why],
    ['refuted', 'not a straight line (r < 0.99): c (r 0.970)'],
  );
});

test('the backlog: not measured when the accept queue holds every load; with --backlog 128, backlog-bound points confirm it', () => {
  const s = server('native-epoll', 'native', undefined, [1, 0.9, 1.1]);
  const untested = claim(input([s]), 'backlog');
  assert.equal(untested.verdict, 'not measured in this run');
  assert.match(untested.why, /held 4096, more than any load offered \(at most 1000\); --backlog 128 tests it/);
  const lp = (load: number, connectedLoad: number, flags: ServerSummary['loads'][number]['flags']) =>
    ({ load, connectedLoad, flags }) as ServerSummary['loads'][number];
  const capped = { ...s, loads: [lp(100, 99, []), lp(500, 131, ['backlog-bound']), lp(1000, 129, ['backlog-bound'])] };
  const c = claim(input([capped], { backlog: 128 }), 'backlog');
  assert.deepEqual(
    [c.verdict, c.now],
    ['confirmed', 'accept queue 128: 1 of 1 servers backlog-bound above it, at most 131 past the handshake'],
  );
  const held = { ...s, loads: [lp(100, 99, []), lp(500, 495, []), lp(1000, 990, [])] };
  assert.equal(claim(input([held], { backlog: 128 }), 'backlog').verdict, 'refuted');
  // somaxconn cuts the backlog asked, silently, as in the paper.
  const cut = input([capped]);
  cut.host = { ...cut.host, somaxconn: 128 };
  assert.equal(claim(cut, 'backlog').verdict, 'confirmed');
});

test('the memory claim: not measured without memory.json', () => {
  const c = claim(input([server('events', 'typescript', 'thttpd', [1, 0.9, 1.1])]), 'memory');
  assert.equal(c.verdict, 'not measured in this run');
});
