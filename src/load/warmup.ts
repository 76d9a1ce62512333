// Warm a server until it is at steady state, and say how long that took. A fresh Node server needs thousands of
// requests before V8 has compiled its hot paths (measured: a fresh `events` server at a quarter core went 1.6k,
// 4.3k, 5.7k ... 6.3k req/s over its first ten windows of 2000 requests), and a fresh native server has pages to
// fault in and caches to fill. So a server is driven in short windows at the point's load until the last
// `agree` windows' throughputs lie within `tolerance` of their mean, bounded in requests and in seconds. What it
// got is recorded with the point; the measured window's own stationarity check (src/load/steady.ts) then says
// whether the warm-up was enough.
import { runLoad } from './index.js';

export interface WarmupPolicy {
  /** Length of one window, seconds. */
  windowS: number;
  /** Windows whose throughputs must agree. */
  agree: number;
  /** Their largest distance from their mean, as a share of it. */
  tolerance: number;
  /**
   * Requests before the windows may be judged, for a server whose code a JIT compiles as it runs: V8 runs a fresh
   * server's hot paths interpreted, then in baseline code, and only after some thousands of requests in optimised
   * code, so the first windows look steady at a third of the final rate (measured: `events` held 1.1k req/s for
   * its first 2500 requests, then 3.3k). Compiled servers (C, the production servers) are judged from the start.
   */
  minRequests: number;
  /** Bounds: the warm-up stops there, steady or not. */
  maxRequests: number;
  maxS: number;
}

/**
 * A fresh server, once a round, at the full core (it goes under its quota after): at least 6000 requests, then until
 * three 0.25 s windows lie within 10% of their mean, at most 60000 requests or 8 s. At the full core a fast server
 * outruns the client, so the windows agree as soon as its code is compiled: 1.2 to 3.6 s a server in a default run
 * of 29 (0.4 s windows; 4 s on average at a quarter core before the paired design, 12 s at most).
 */
export const SESSION_WARMUP: WarmupPolicy = { windowS: 0.25, agree: 3, tolerance: 0.1, minRequests: 6000, maxRequests: 60_000, maxS: 8 };
/**
 * A warm server at a new load: one 0.2 s window, so that the accept queue and the heap settle at this load; the
 * code is already compiled, and the measured window's own stationarity check catches what this misses (0.3 s
 * before the budget: the stored default run's not-steady flags were no more frequent at l = 1000 than at 250).
 */
export const LOAD_WARMUP: WarmupPolicy = { windowS: 0.2, agree: 1, tolerance: 1, minRequests: 0, maxRequests: 20_000, maxS: 1 };

/**
 * A live server before each later sweep of its round (the paired design), at the full core: 3000 requests for a JIT
 * server in 0.1 s windows, one window for the others. Idle between its sweeps (a minute or two), a V8 server loses
 * compiled code and ran 30 to 60% slower in its next sweep without it (node-http, coroutines, deno-serve in a
 * default run), where C servers did not move; at the full core this costs a fraction of a second.
 */
export const VISIT_WARMUP: WarmupPolicy = { windowS: 0.1, agree: 1, tolerance: 1, minRequests: 3000, maxRequests: 20_000, maxS: 2 };

/** How a run warms each server, when its plan does not say (runs before warm-ups were recorded). */
export const DEFAULT_WARMUP = { session: SESSION_WARMUP, load: LOAD_WARMUP } as const;

export interface Warmup {
  /** Requests completed and seconds spent warming. */
  requests: number;
  durationS: number;
  /** Throughput of each window, req/s, in order. */
  windowsRps: number[];
  /** Whether the last windows agreed before a bound was hit. */
  steady: boolean;
  /** Concurrency the windows ran at. */
  concurrency: number;
}

/** Whether the last `agree` rates lie within `tolerance` of their mean. */
export function agreeing(rates: readonly number[], agree: number, tolerance: number): boolean {
  if (rates.length < agree) return false;
  const last = rates.slice(-agree);
  const mean = last.reduce((a, b) => a + b, 0) / agree;
  return mean > 0 && last.every((r) => Math.abs(r - mean) <= tolerance * mean);
}

/**
 * A server that has served fewer than SLOW_REQUESTS requests after SLOW_AFTER_S seconds (a thread or a process per
 * connection, each with its own fresh code) gains nothing from a longer warm-up, and the windows of such a
 * trickle never agree: the warm-up stops there, recorded as not steady.
 */
export const SLOW_AFTER_S = 3;
export const SLOW_REQUESTS = 300;

/** Drives `url` at `concurrency` in windows until steady or out of bounds. Errors count as requests, never throw. */
export async function warmUntilSteady(
  url: string,
  concurrency: number,
  policy: WarmupPolicy,
  timeoutS: number,
  signal?: AbortSignal,
  jit = true,
): Promise<Warmup> {
  const minRequests = jit ? policy.minRequests : 0;
  const t0 = performance.now();
  const windowsRps: number[] = [];
  let requests = 0;
  const elapsedS = () => (performance.now() - t0) / 1000;
  while (!signal?.aborted && requests < policy.maxRequests && elapsedS() < policy.maxS) {
    // A window may not outlive the warm-up's bound: a model that takes seconds per request is cut off there.
    const stop = new AbortController();
    const relay = () => stop.abort();
    signal?.addEventListener('abort', relay, { once: true });
    // A window is never cut short otherwise: requests abandoned in flight would leave the server busy with them
    // when the point starts.
    const cap = setTimeout(relay, Math.max(0, policy.maxS - elapsedS()) * 1000);
    try {
      const r = await runLoad({
        url,
        concurrency,
        durationS: policy.windowS,
        requests: Math.max(concurrency, policy.maxRequests - requests),
        timeoutS,
        trim: 0,
        signal: stop.signal,
      });
      requests += r.requestsCompleted;
      if (r.stoppedEarly) break;
      windowsRps.push(r.throughputRps);
    } finally {
      clearTimeout(cap);
      signal?.removeEventListener('abort', relay);
    }
    if (requests >= minRequests && agreeing(windowsRps, policy.agree, policy.tolerance)) break;
    if (elapsedS() >= SLOW_AFTER_S && requests < SLOW_REQUESTS) break;
  }
  const steady = requests >= minRequests && agreeing(windowsRps, policy.agree, policy.tolerance);
  return { requests, durationS: elapsedS(), windowsRps, steady, concurrency };
}
