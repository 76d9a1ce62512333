// Whether a measurement saw one steady state: the kept window's first and last thirds (by start order) must agree
// on throughput and on mean latency. A server still warming up (V8 compiling its hot paths, a heap growing to its
// working size) is faster, or slower, at the end than at the start; a machine that drifted mid-point likewise.
// Thirds rather than halves keep the middle out, so one burst at the boundary does not decide the comparison.

/** First and last thirds may differ by this share of their mean before the point is called not steady. */
export const STEADY_TOLERANCE = 0.1;
/** Below this many kept requests per third, the comparison is noise and is not made. */
export const STEADY_MIN_PER_PART = 30;

export interface Steadiness {
  /** Throughput of the first and the last third, requests per second of their own span of starts. */
  throughputRps: [number, number];
  /** Mean latency of the first and the last third, ms. */
  meanLatencyMs: [number, number];
  /** The larger of the two relative differences, |last − first| / mean(first, last). */
  drift: number;
  /** drift ≤ STEADY_TOLERANCE. */
  steady: boolean;
}

/**
 * Steadiness of requests given by their start times and latencies (ms), in start order. Undefined when there are
 * too few to compare.
 */
export function steadiness(startMs: ArrayLike<number>, latencyMs: ArrayLike<number>, tolerance = STEADY_TOLERANCE): Steadiness | undefined {
  const n = startMs.length;
  const per = Math.floor(n / 3);
  if (per < STEADY_MIN_PER_PART) return undefined;
  const part = (from: number): { rps: number; meanMs: number } => {
    let sum = 0;
    for (let i = from; i < from + per; i++) sum += latencyMs[i]!;
    const spanMs = startMs[from + per - 1]! - startMs[from]!;
    return { rps: spanMs > 0 ? ((per - 1) * 1000) / spanMs : Infinity, meanMs: sum / per };
  };
  const a = part(0);
  const b = part(n - per);
  const rel = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) && x + y > 0 ? Math.abs(y - x) / ((x + y) / 2) : 0);
  const drift = Math.max(rel(a.rps, b.rps), rel(a.meanMs, b.meanMs));
  return { throughputRps: [a.rps, b.rps], meanLatencyMs: [a.meanMs, b.meanMs], drift, steady: drift <= tolerance };
}

/** The verdict's sentence for a point that was not steady. */
export function notSteadyReason(s: Steadiness): string {
  const pct = (x: number, y: number) => `${(((y - x) / x) * 100).toFixed(0)}%`;
  return `not at steady state: from the first to the last third of the kept window, throughput went ${s.throughputRps[0].toFixed(0)} → ${s.throughputRps[1].toFixed(0)} req/s (${pct(...s.throughputRps)}) and mean latency ${s.meanLatencyMs[0].toFixed(2)} → ${s.meanLatencyMs[1].toFixed(2)} ms (${pct(...s.meanLatencyMs)}), past the ${STEADY_TOLERANCE * 100}% tolerance`;
}
