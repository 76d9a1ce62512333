// Whether a measurement saw one steady state. The kept window is cut, by start order, into up to CHUNKS equal
// parts of at least `concurrency` requests each (a closed loop at load l serves in waves of l requests, so a part
// smaller than that measures the wave, not the server); each part's throughput and mean latency are measured; the
// first third of the parts is compared with the last third; with fewer than MIN_CHUNKS parts it is not assessed.
// A point is not steady when, for throughput or for mean latency, the two thirds differ by more than
// STEADY_TOLERANCE of the window's mean AND the difference stands out of the parts' own scatter (Welch's t above
// T_CRITICAL): a server still warming up (V8 compiling its hot paths, a heap growing to its working size) or a
// machine that drifted mid-point, not the ±10% that a throttled server's throughput wobbles by in 50 ms slices.
// Thirds rather than halves keep the middle out, so one burst at the boundary does not decide the comparison.
import { mean } from '../core/numbers.js';

/** The two thirds may differ by this share of the window's mean before the point can be called not steady. */
export const STEADY_TOLERANCE = 0.1;
export const CHUNKS = 12;
export const MIN_CHUNKS = 6;
/** Two-sided 95% Student t by degrees of freedom (Welch's, about 2(k − 1) for k parts per third). */
const T95: Record<number, number> = { 2: 4.3, 4: 2.78, 6: 2.45, 8: 2.31 };
export const T_CRITICAL = T95[6]!;
/** Below this many kept requests per part, the comparison is noise and is not made. */
export const STEADY_MIN_PER_PART = 10;

export interface Steadiness {
  /** Throughput of the first and the last third of the window, requests per second of their own spans of starts. */
  throughputRps: [number, number];
  /** Mean latency of the first and the last third, ms. */
  meanLatencyMs: [number, number];
  /** The larger of the two relative differences, |last − first| / mean of the window. */
  drift: number;
  /** Welch's t of that difference against the parts' scatter. */
  t: number;
  /** Parts the window was cut into (MIN_CHUNKS to CHUNKS). */
  parts: number;
  /** Not (drift > STEADY_TOLERANCE and t above the 95% critical value), for either measure. */
  steady: boolean;
}

interface Compared {
  first: number;
  last: number;
  rel: number;
  t: number;
}

function compare(values: readonly number[]): Compared {
  const third = Math.floor(values.length / 3);
  const a = values.slice(0, third);
  const b = values.slice(values.length - third);
  const variance = (xs: readonly number[], m: number) => xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  const ma = mean(a),
    mb = mean(b),
    all = mean(values);
  const se = Math.sqrt(variance(a, ma) / a.length + variance(b, mb) / b.length);
  const rel = all > 0 ? Math.abs(mb - ma) / all : 0;
  return { first: ma, last: mb, rel, t: se > 0 ? Math.abs(mb - ma) / se : mb === ma ? 0 : Infinity };
}

/**
 * Steadiness of requests given by their start times and latencies (ms), in start order, from a closed loop at
 * `concurrency`. Undefined when the window holds fewer than MIN_CHUNKS waves of requests: too short to tell.
 */
export function steadiness(
  startMs: ArrayLike<number>,
  latencyMs: ArrayLike<number>,
  concurrency = 1,
  tolerance = STEADY_TOLERANCE,
): Steadiness | undefined {
  const chunks = Math.min(CHUNKS, Math.floor(startMs.length / Math.max(STEADY_MIN_PER_PART, concurrency)));
  if (chunks < MIN_CHUNKS) return undefined;
  const per = Math.floor(startMs.length / chunks);
  const rps: number[] = [];
  const meanMs: number[] = [];
  for (let c = 0; c < chunks; c++) {
    const from = c * per;
    let sum = 0;
    for (let i = from; i < from + per; i++) sum += latencyMs[i]!;
    // Throughput of a part over its own span of starts: a closed loop starts a request whenever one ends.
    const spanMs = startMs[from + per - 1]! - startMs[from]!;
    rps.push(spanMs > 0 ? ((per - 1) * 1000) / spanMs : 0);
    meanMs.push(sum / per);
  }
  const tp = compare(rps);
  const lat = compare(meanMs);
  const k = Math.floor(chunks / 3);
  const critical = T95[2 * (k - 1)] ?? T_CRITICAL;
  const off = (c: Compared) => c.rel > tolerance && c.t > critical;
  return {
    throughputRps: [tp.first, tp.last],
    meanLatencyMs: [lat.first, lat.last],
    drift: Math.max(tp.rel, lat.rel),
    t: Math.max(tp.t, lat.t),
    parts: chunks,
    steady: !off(tp) && !off(lat),
  };
}

/** The verdict's sentence for a point that was not steady. */
export function notSteadyReason(s: Steadiness): string {
  const pct = (x: number, y: number) => `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(0)}%`;
  return `not at steady state: from the first to the last third of the kept window, throughput went ${s.throughputRps[0].toFixed(0)} → ${s.throughputRps[1].toFixed(0)} req/s (${pct(...s.throughputRps)}) and mean latency ${s.meanLatencyMs[0].toFixed(2)} → ${s.meanLatencyMs[1].toFixed(2)} ms (${pct(...s.meanLatencyMs)}), beyond the ${STEADY_TOLERANCE * 100}% tolerance and the window's own scatter`;
}
