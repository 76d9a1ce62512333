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
  const kept =
    r.engine === 'ab'
      ? 'all requests (ab keeps no start order to trim by)'
      : `${r.requests} kept: ${r.trim} dropped at each end by start order${r.trimNote ? ` (${r.trimNote})` : ''}`;
  const e = r.errors;
  const out = [
    `eventbench load, engine ${r.engine}${r.transport ? ` (${r.transport})` : ''}, ${r.mode === 'close' ? 'one fresh connection per request (HTTP/1.0, as ab)' : 'KEEP-ALIVE: reused HTTP/1.1 connections'}`,
    '',
    line('Server', `${url.host}`),
    line('Document path', url.pathname + url.search),
    line('Document length', r.documentBytes === null ? '-' : `${r.documentBytes} bytes`),
    '',
    ...(r.openLoop
      ? [
          line(
            'OPEN LOOP',
            `${r.openLoop.rateRps} requests/s offered, ${r.openLoop.arrivals} arrivals (seed ${r.openLoop.seed}); latency from each scheduled start`,
          ),
          line('Rate held', `${r.openLoop.sentRps.toFixed(2)} requests/s sent (${r.openLoop.requestsScheduled} scheduled)`),
          line('In flight', `at most ${r.openLoop.peakInflight} (--max-inflight ${r.openLoop.maxInflight})`),
          line(
            'Client lag (ms)',
            `mean ${ms(r.openLoop.lagMs.mean, 0)}, p50 ${ms(r.openLoop.lagMs.percentiles['50'] ?? NaN, 0)}, p99 ${ms(r.openLoop.lagMs.percentiles['99'] ?? NaN, 0)}, p99.9 ${ms(r.openLoop.lagMs.percentiles['99.9'] ?? NaN, 0)}, max ${ms(r.openLoop.lagMs.max, 0)} (bound on p99: ${r.openLoop.lagBoundMs} ms)`,
          ),
        ]
      : [
          line(
            'Concurrency level',
            `${r.concurrency}${
              r.agents ? ` over ${r.agents.parts.length} agents` : r.workers > 1 ? ` over ${r.workers} worker threads` : ''
            }`,
          ),
        ]),
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
  if (r.fairness) {
    const f = r.fairness;
    const slowest = `the slowest got ${f.slowestClientShare.toFixed(2)} of a fair share`;
    out.push(line('Fairness', `Jain's index ${f.jainIndex.toFixed(3)} over ${f.clients} clients; ${slowest}`));
  }
  if (r.stoppedEarly) out.push(line('Stopped early', r.stoppedEarly));
  if (r.agents) out.push('', ...agentLines(r.agents));
  out.push(
    '',
    'Connection Times (ms)',
    `${''.padEnd(12)}${'min'.padStart(8)}${'mean'.padStart(8)}${'[+/-sd]'.padStart(8)}${'median'.padStart(8)}${'max'.padStart(10)}`,
  );
  out.push(
    phaseRow('Connect', r.phasesMs.connect),
    phaseRow('Processing', r.phasesMs.processing),
    phaseRow('Waiting', r.phasesMs.waiting),
    phaseRow('Total', r.phasesMs.total),
  );
  out.push('', 'Percentage of the requests served within a certain time (ms)');
  for (const p of PERCENTILES)
    out.push(`${`${p}%`.padStart(6)} ${ms(r.latencyMs.percentiles[String(p)] ?? NaN, 10)}${p === 100 ? ' (longest request)' : ''}`);
  out.push('');
  if (r.openLoop && r.verdict.clientBound) {
    out.push('VERDICT: CLIENT-BOUND. The client fell behind its own schedule:');
    for (const reason of r.verdict.reasons) out.push(`  - ${reason}`);
    out.push('  Offer a lower --rate, or give the client a core of its own (taskset -c 1).');
  } else if (r.openLoop) {
    out.push(
      r.verdict.reasons.length
        ? `VERDICT: ${r.verdict.reasons.join('; ')}.`
        : `Verdict: the client held its schedule (lag p99 ${ms(r.openLoop.lagMs.percentiles['99'] ?? NaN, 0)} ms).`,
    );
  } else if (r.verdict.clientBound) {
    out.push('VERDICT: CLIENT-BOUND. The client, not the server, set the pace:');
    for (const reason of r.verdict.reasons) out.push(`  - ${reason}`);
    out.push('  These figures measure the client as much as the server. Pin the server to another core and throttle it');
    out.push('  (eventbench run does both), or add client threads with --workers N.');
  } else if (r.verdict.reasons.length) {
    out.push(`VERDICT: ${r.verdict.reasons.join('; ')}.`);
  } else {
    out.push(
      `Verdict: the server set the pace (measured load ${r.measuredLoad.toFixed(1)} of ${r.concurrency}, client CPU ${(100 * r.clientCpu.share).toFixed(0)}%).`,
    );
  }
  return out.join('\n') + '\n';
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
