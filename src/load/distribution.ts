// Beyond the mean: how evenly a closed loop's clients were served, and the whole latency distribution in a form
// small enough to store with every point. Both from the per-request records of the kept window. SEDA (Welsh et
// al., 2001) reported both for the same reason: a server can hold a good mean by starving a few clients.
// - Fairness: each client (a slot of the closed loop) served x_i requests; Jain's index (Σx)² / (n·Σx²) is 1 when
//   every client got as many, and 1/n when one got them all. The slowest client's share, n·min(x)/Σx, is 1 when
//   it got a fair share and 0 when it was starved.
// - Latency on log buckets (20 a decade, 12% wide): a CDF needs no more, and buckets merge exactly by adding
//   counts, so the rounds of one point pool into one distribution (percentiles never average).
import type { Fairness, LatencyBuckets } from './types.js';
import type { Records } from './records.js';

export const BUCKETS_PER_DECADE = 20;
/** Latencies below this are counted in its bucket (a request cannot be served faster than a microsecond), ms. */
const FLOOR_MS = 0.001;

/** Jain's index and the slowest client's share over the served requests `served` (indices into `r`) of `clients` slots. */
export function fairness(r: Pick<Records, 'slot'>, served: readonly number[], clients: number): Fairness | undefined {
  if (clients < 1 || served.length === 0) return undefined;
  const perClient = new Float64Array(clients);
  for (const i of served) {
    const slot = r.slot[i]!;
    if (slot < clients) perClient[slot]! += 1;
  }
  return fairnessOf(perClient);
}

/** The same figures from each client's count of served requests. */
export function fairnessOf(perClient: ArrayLike<number>): Fairness | undefined {
  const n = perClient.length;
  let sum = 0,
    squares = 0,
    min = Infinity;
  for (let i = 0; i < n; i++) {
    const x = perClient[i]!;
    sum += x;
    squares += x * x;
    min = Math.min(min, x);
  }
  if (n === 0 || sum === 0) return undefined;
  return { clients: n, jainIndex: (sum * sum) / (n * squares), slowestClientShare: (n * min) / sum };
}

const bucketOf = (ms: number): number => Math.floor(Math.log10(Math.max(ms, FLOOR_MS)) * BUCKETS_PER_DECADE);

/** Latencies (ms) counted on log buckets; undefined for none. */
export function latencyBuckets(valuesMs: ArrayLike<number>): LatencyBuckets | undefined {
  if (valuesMs.length === 0) return undefined;
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < valuesMs.length; i++) {
    const k = bucketOf(valuesMs[i]!);
    lo = Math.min(lo, k);
    hi = Math.max(hi, k);
  }
  const counts = new Array<number>(hi - lo + 1).fill(0);
  for (let i = 0; i < valuesMs.length; i++) counts[bucketOf(valuesMs[i]!) - lo]! += 1;
  return { perDecade: BUCKETS_PER_DECADE, first: lo, counts };
}

/** Several points' buckets as one distribution (counts added); undefined for none or mixed bucket widths. */
export function mergeBuckets(parts: readonly LatencyBuckets[]): LatencyBuckets | undefined {
  if (parts.length === 0 || parts.some((p) => p.perDecade !== parts[0]!.perDecade)) return undefined;
  const first = Math.min(...parts.map((p) => p.first));
  const last = Math.max(...parts.map((p) => p.first + p.counts.length - 1));
  const counts = new Array<number>(last - first + 1).fill(0);
  for (const p of parts)
    p.counts.forEach((c, i) => {
      counts[p.first - first + i]! += c;
    });
  return { perDecade: parts[0]!.perDecade, first, counts };
}

/**
 * The CDF at each bucket's edges: the share of requests served within `ms`, exact at every edge (between two
 * edges the true curve lies between their shares).
 */
export function cdf(b: LatencyBuckets): { ms: number; share: number }[] {
  const total = b.counts.reduce((a, c) => a + c, 0);
  const out = [{ ms: 10 ** (b.first / b.perDecade), share: 0 }];
  let below = 0;
  b.counts.forEach((c, i) => {
    below += c;
    out.push({ ms: 10 ** ((b.first + i + 1) / b.perDecade), share: below / total });
  });
  return out;
}
