// The text summary `eventbench load` prints: ab's layout, with what ab lacks (trimming, measured load, the verdict).
// Pure: a LoadResult in, a string out.
import { ERROR_KINDS, PERCENTILES, type AgentsSection, type ErrorCounts, type LoadResult, type PhaseMs } from './types.js';

/** "100 timeout, 2 reset": the errors by kind, those that happened only. */
export function errorKinds(e: ErrorCounts): string {
  return ERROR_KINDS.map((k) => [k, e[k] ?? 0] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

const ms = (v: number, w = 8) => (Number.isFinite(v) ? v.toFixed(3) : '-').padStart(w);
const line = (label: string, value: string) => `${(label + ':').padEnd(24)}${value}`;

function phaseRow(name: string, p: PhaseMs): string {
  return `${(name + ':').padEnd(12)}${ms(p.min)}${ms(p.mean)}${ms(p.sd)}${ms(p.median)}${ms(p.max, 10)}`;
}

export function formatResult(r: LoadResult): string {
  const url = new URL(r.url);
  const out = [
    `eventbench load, engine ${r.engine}${r.transport ? ` (${r.transport})` : ''}, ${r.mode === 'close' ? 'one fresh connection per request (HTTP/1.0, as ab)' : 'KEEP-ALIVE: reused HTTP/1.1 connections'}`,
    '',
    line('Server', `${url.host}`),
    line('Document path', url.pathname + url.search),
    line('Document length', r.documentBytes === null ? '-' : `${r.documentBytes} bytes`),
    '',
    ...loadLines(r),
    ...countLines(r),
  ];
  if (r.fairness) {
    const f = r.fairness;
    const slowest = `the slowest got ${f.slowestClientShare.toFixed(2)} of a fair share`;
    out.push(line('Fairness', `Jain's index ${f.jainIndex.toFixed(3)} over ${f.clients} clients; ${slowest}`));
  }
  if (r.stoppedEarly) out.push(line('Stopped early', r.stoppedEarly));
  if (r.agents) out.push('', ...agentLines(r.agents));
  out.push('', ...timeLines(r), ...verdictLines(r));
  return out.join('\n') + '\n';
}

/** What was offered: the open loop's schedule and how well it was held, or the closed loop's concurrency. */
function loadLines(r: LoadResult): string[] {
  if (!r.openLoop)
    return [
      line(
        'Concurrency level',
        `${r.concurrency}${r.agents ? ` over ${r.agents.parts.length} agents` : r.workers > 1 ? ` over ${r.workers} worker threads` : ''}`,
      ),
    ];
  const o = r.openLoop;
  const lag = (p: string) => ms(o.lagMs.percentiles[p] ?? NaN, 0);
  return [
    line('OPEN LOOP', `${o.rateRps} requests/s offered, ${o.arrivals} arrivals (seed ${o.seed}); latency from each scheduled start`),
    line('Rate held', `${o.sentRps.toFixed(2)} requests/s sent (${o.requestsScheduled} scheduled)`),
    line('In flight', `at most ${o.peakInflight} (--max-inflight ${o.maxInflight})`),
    line(
      'Client lag (ms)',
      `mean ${ms(o.lagMs.mean, 0)}, p50 ${lag('50')}, p99 ${lag('99')}, p99.9 ${lag('99.9')}, max ${ms(o.lagMs.max, 0)} (bound on p99: ${o.lagBoundMs} ms)`,
    ),
  ];
}

/** ab's counts: time, requests kept and failed, bytes, rate, mean time, then what ab lacks (measured load, client CPU). */
function countLines(r: LoadResult): string[] {
  const kept =
    r.engine === 'ab'
      ? 'all requests (ab keeps no start order to trim by)'
      : `${r.requests} kept: ${r.trim} dropped at each end by start order${r.trimNote ? ` (${r.trimNote})` : ''}`;
  const e = r.errors;
  return [
    line('Time taken for tests', `${r.totalDurationS.toFixed(3)} seconds (kept window ${r.durationS.toFixed(3)} s)`),
    line('Complete requests', `${r.requestsCompleted} (${kept})`),
    line(
      'Failed requests',
      `${e.total}${e.total ? `  (connect ${e.connect}, reset ${e.reset}, timeout ${e.timeout}, non-2xx ${e.status}, length ${e.length}, other ${e.other}${e.inflight ? `, over --max-inflight ${e.inflight}` : ''})` : ''}`,
    ),
    line('Total transferred', `${r.bytesReceived} bytes${r.engine === 'ab' ? '' : ' (kept window)'}`),
    line('Requests per second', `${r.throughputRps.toFixed(2)} [#/sec] (mean)`),
    line('Time per request', `${r.latencyMs.mean.toFixed(3)} [ms] (mean)`),
    line(
      'Measured load',
      r.openLoop
        ? `${r.measuredLoad.toFixed(2)} requests in flight on average`
        : `${r.measuredLoad.toFixed(2)} of ${r.concurrency} offered (l_m = n·t_r/t, Kerneis & Chroboczek)`,
    ),
    line(
      'Client CPU',
      `${(100 * r.clientCpu.share).toFixed(0)}% of one core${r.agents ? ', summed over the agents' : ''} ` +
        `(user ${r.clientCpu.userS.toFixed(2)} s, system ${r.clientCpu.systemS.toFixed(2)} s)`,
    ),
  ];
}

/** ab's connection-times table, one row per phase. */
const PHASE_ROWS: [string, keyof LoadResult['phasesMs']][] = [
  ['Connect', 'connect'],
  ['Processing', 'processing'],
  ['Waiting', 'waiting'],
  ['Total', 'total'],
];

/** The connection-times table and the percentiles, as ab prints them. */
function timeLines(r: LoadResult): string[] {
  return [
    'Connection Times (ms)',
    `${''.padEnd(12)}${'min'.padStart(8)}${'mean'.padStart(8)}${'[+/-sd]'.padStart(8)}${'median'.padStart(8)}${'max'.padStart(10)}`,
    ...PHASE_ROWS.map(([name, key]) => phaseRow(name, r.phasesMs[key])),
    '',
    'Percentage of the requests served within a certain time (ms)',
    ...PERCENTILES.map(
      (p) => `${`${p}%`.padStart(6)} ${ms(r.latencyMs.percentiles[String(p)] ?? NaN, 10)}${p === 100 ? ' (longest request)' : ''}`,
    ),
    '',
  ];
}

/** The verdict: who set the pace (or, open loop, whether the client held its schedule), and what to do if not the server. */
function verdictLines(r: LoadResult): string[] {
  const reasons = r.verdict.reasons.map((reason) => `  - ${reason}`);
  if (r.openLoop && r.verdict.clientBound)
    return [
      'VERDICT: CLIENT-BOUND. The client fell behind its own schedule:',
      ...reasons,
      '  Offer a lower --rate, or give the client a core of its own (taskset -c 1).',
    ];
  if (r.openLoop)
    return [
      r.verdict.reasons.length
        ? `VERDICT: ${r.verdict.reasons.join('; ')}.`
        : `Verdict: the client held its schedule (lag p99 ${ms(r.openLoop.lagMs.percentiles['99'] ?? NaN, 0)} ms).`,
    ];
  if (r.verdict.clientBound)
    return [
      'VERDICT: CLIENT-BOUND. The client, not the server, set the pace:',
      ...reasons,
      '  These figures measure the client as much as the server. Pin the server to another core and throttle it',
      '  (eventbench run does both), or add client threads with --workers N.',
    ];
  if (r.verdict.reasons.length) return [`VERDICT: ${r.verdict.reasons.join('; ')}.`];
  return [
    `Verdict: the server set the pace (measured load ${r.measuredLoad.toFixed(1)} of ${r.concurrency}, client CPU ${(100 * r.clientCpu.share).toFixed(0)}%).`,
  ];
}

/** A load merged from agents: each one's share, clock, start and own verdict, and how far apart they started. */
function agentLines(a: AgentsSection): string[] {
  const width = Math.max(4, ...a.parts.map((p) => p.host.length));
  const signed = (v: number, digits: number) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
  return [
    `Agents (figures above: all agents' requests over the span every agent covers; start scheduled at ${a.scheduledAt})`,
    `  ${'host'.padEnd(width)}  share   l_m  kept  start lag ms  clock offset ± bound ms  client CPU  verdict`,
    ...a.parts.map((p) =>
      [
        `  ${p.host.padEnd(width)}`,
        String(p.concurrency).padStart(5),
        p.measuredLoad.toFixed(1).padStart(4),
        String(p.requestsKept).padStart(4),
        signed(p.startLagMs, 2).padStart(12),
        `${signed(p.clockOffsetMs, 3)} ± ${p.clockBoundMs.toFixed(3)}`.padStart(23),
        `${(100 * p.clientCpuShare).toFixed(0)}%`.padStart(10),
        p.verdict.clientBound ? 'CLIENT-BOUND' : 'ok',
      ].join('  '),
    ),
    line(
      'Start spread',
      `${a.startSpreadMs.toFixed(2)} ms, clock bounds included ` + `(limit: ${a.startSpreadLimitMs.toFixed(2)} ms, 5% of the kept window)`,
    ),
  ];
}
