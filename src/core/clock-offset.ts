// How far another host's clock is from ours, NTP's way, from round trips over the link that reaches it: we note our
// clock, ask for its clock, note ours again when the answer comes. It read its clock at some instant between our two
// readings, so taking the midpoint errs by at most half the round trip; of several probes, the one with the
// shortest round trip gives the tightest bound (a probe delayed on one leg only would skew the estimate, and its
// longer round trip says so).

export interface ClockProbe {
  /** Our clock when the probe left, ms. */
  sentMs: number;
  /** Its clock when it answered, ms. */
  theirMs: number;
  /** Our clock when the answer came back, ms. */
  receivedMs: number;
}

export interface ClockOffset {
  /** Its clock minus ours, ms: a time T on its clock is T − offsetMs on ours. */
  offsetMs: number;
  /** The true offset is within ±boundMs of offsetMs: half the round trip of the probe it came from, ms. */
  boundMs: number;
  /** That probe's round trip, ms. */
  rttMs: number;
  /** Probes made. */
  probes: number;
}

/** The offset from the probe with the shortest round trip, with its bound. */
export function estimateOffset(probes: readonly ClockProbe[]): ClockOffset {
  let best: ClockProbe | undefined;
  for (const p of probes) {
    if (!(p.receivedMs >= p.sentMs)) throw new RangeError(`a clock probe came back before it left (${p.sentMs} ms, ${p.receivedMs} ms)`);
    if (!best || p.receivedMs - p.sentMs < best.receivedMs - best.sentMs) best = p;
  }
  if (!best) throw new RangeError('no clock probe to estimate an offset from');
  const rttMs = best.receivedMs - best.sentMs;
  return { offsetMs: best.theirMs - (best.sentMs + best.receivedMs) / 2, boundMs: rttMs / 2, rttMs, probes: probes.length };
}
