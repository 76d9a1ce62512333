// A tiny real closed-loop client speaking the `eventbench load URL -c L [-n N] [-t S] --json` contract, for the
// runner's tests until the real load generator is on main: one fresh connection per request, a LoadResult on
// stdout with the fields the runner reads (counts, throughput, latency, errors, measured load).
import net from 'node:net';
import { environment } from '../../src/core/environment.js';
import { LOAD_SCHEMA, type LoadResult, type PhaseMs } from '../../src/load/types.js';

const args = process.argv.slice(2);
const flag = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const url = new URL(args.find((a) => a.startsWith('http://'))!);
const concurrency = Number(flag('-c') ?? 1);
const maxRequests = Number(flag('-n') ?? Infinity);
const durationS = Number(flag('-t') ?? Infinity);
const timeoutMs = Number(flag('--timeout') ?? 30) * 1000;
const trim = Number(flag('--trim') ?? 0);

interface Rec { startMs: number; endMs: number; ok: boolean }
const records: Rec[] = [];
const t0 = performance.now();
let started = 0;
let aborted = false;
process.on('SIGINT', () => { aborted = true; });

function one(): Promise<void> {
  const rec: Rec = { startMs: performance.now(), endMs: 0, ok: false };
  records.push(rec);
  started += 1;
  return new Promise((resolve) => {
    const s = net.connect(Number(url.port), url.hostname);
    let got = '';
    const done = (ok: boolean) => { rec.ok = ok; rec.endMs = performance.now(); s.destroy(); clearTimeout(t); resolve(); };
    const t = setTimeout(() => done(false), timeoutMs);
    s.on('connect', () => s.write('GET / HTTP/1.0\r\n\r\n'));
    s.setEncoding('latin1').on('data', (d: string) => { got += d; });
    s.on('end', () => done(got.startsWith('HTTP/1.0 200')));
    s.on('error', () => done(false));
  });
}

async function loop(): Promise<void> {
  while (!aborted && started < maxRequests && performance.now() - t0 < durationS * 1000) await one();
}

await Promise.all(Array.from({ length: concurrency }, loop));
records.sort((a, b) => a.startMs - b.startMs);
const k = Math.min(trim, Math.floor(records.length / 4));
const kept = records.slice(k, records.length - k);
const lat = kept.map((r) => r.endMs - r.startMs).sort((a, b) => a - b);
const spanS = kept.length ? (Math.max(...kept.map((r) => r.endMs)) - kept[0]!.startMs) / 1000 : 0;
const mean = lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length);
const phase: PhaseMs = { min: lat[0] ?? 0, mean, sd: 0, median: lat[Math.floor(lat.length / 2)] ?? 0, max: lat[lat.length - 1] ?? 0 };
const errors = records.filter((r) => !r.ok).length;
const result: LoadResult = {
  schema: LOAD_SCHEMA, engine: 'eventbench', url: url.href, mode: 'close', concurrency, workers: 1,
  requestsStarted: started, requestsCompleted: records.length, requests: kept.length, trim: k,
  durationS: spanS, totalDurationS: (performance.now() - t0) / 1000,
  throughputRps: spanS > 0 ? kept.length / spanS : 0, measuredLoad: spanS > 0 ? (kept.length * mean) / 1000 / spanS : 0,
  latencyMs: { ...phase, percentiles: { '50': phase.median, '100': phase.max } },
  phasesMs: { connect: phase, processing: phase, waiting: phase, total: phase },
  bytesReceived: 0, documentBytes: null,
  errors: { connect: 0, reset: 0, timeout: 0, status: 0, length: 0, other: errors, total: errors },
  statusCounts: {}, clientCpu: { userS: 0, systemS: 0, share: 0 }, verdict: { clientBound: false, reasons: [] },
  ...(aborted ? { stoppedEarly: 'aborted' } : {}),
  startedAt: new Date().toISOString(), environment: environment(),
};
process.stdout.write(JSON.stringify(result) + '\n');
process.exitCode = aborted ? 130 : 0;
