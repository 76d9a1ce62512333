// How much load the client can offer, and so how slow the servers must be for the client never to set the pace.
// The paper's client ran at under 20% of its CPU against a server downclocked to 600 MHz; ours shares a machine with
// the server, one core each, so the server is slowed by a cgroup quota instead, and the quota must leave the client
// room. A probe server (the fastest kind: native-epoll, else nginx, else a TypeScript event loop) is started on the
// server's cores: at the full core it outruns the client, so the client's own rate is its capacity; under a small
// quota the probe is the slow side, so its rate over the quota is its speed per core. The quota chosen is the one at
// which the probe needs at most 1/HEADROOM of the client's capacity, at most the paper-like quarter core.
import type { Hosts, ServerSpec, StartedServer } from './hosts.js';
import { closedLoadFlags } from '../load/options.js';
import type { LoadResult } from '../load/types.js';

/**
 * What the run measured of the client before choosing the server's quota (src/host/capacity.ts): the client's
 * capacity in new connections per second, against a fast server with a core of its own, and how fast that server is
 * per core under a quota, so that the quota leaves the client `headroom` times what the fastest server needs.
 */
export interface Calibration {
  /** Requests/s the client reached against the probe unthrottled (a fresh connection each, at `concurrency`). */
  clientCapacityRps: number;
  /** The client's CPU share meanwhile (1 = its core full): near 1 when the client, not the server, set the pace. */
  clientCpuShare?: number;
  concurrency: number;
  /** How the client opened connections (the load generator's transport). */
  transport?: string;
  /** The server it was measured against, and that server's rate per core under a small quota (`probeShare`). */
  probe: string;
  probeShare: number;
  probeRpsPerCore: number;
  /** The headroom asked: the fastest server may need at most 1/this of the client's capacity. */
  headroomAsked: number;
  /** The quota chosen (or given), cores; and the headroom it leaves: capacity / (probe's rate at that quota). */
  chosenShare: number;
  headroom: number;
  /** One sentence: how the quota was chosen, or why the calibration could not choose it. */
  why: string;
  /** Seconds the calibration took. */
  durationS: number;
}

/** The fastest server may need at most this fraction's inverse of the client's capacity: 2× headroom. */
export const HEADROOM = 2;
/** The quota is never above this (the default of earlier runs: a quarter core) nor below the floor. */
export const MAX_SHARE = 0.25;
export const MIN_SHARE = 0.02;
/** The probe's quota while its speed per core is read: slow enough that the client is far from its capacity. */
export const PROBE_SHARE = 0.1;
/** Probes, fastest first: the first that can run here is used. */
export const PROBES = ['native-epoll', 'nginx', 'events-uv', 'events'] as const;

export interface CalibrationInput {
  hosts: Hosts;
  /** The probe to start, as the run starts its servers (`eventbench serve NAME ...`). */
  probe: ServerSpec;
  serverCpus?: string;
  clientCpus?: string;
  periodMs: number;
  /** A quota given by the user (--server-cpu-share): measured for its headroom, not chosen. */
  share?: number;
  concurrency?: number;
  durationS?: number;
  signal?: AbortSignal;
}

/** Rounds a quota down to the nearest 0.005 core, so that it reads well and stays on the safe side. */
const roundShare = (share: number) => Math.floor(share * 200) / 200;

/** One closed-loop load of `durationS` at `concurrency` from the client host; its result, or why there is none. */
async function loadOnce(hosts: Hosts, url: string, concurrency: number, durationS: number, signal?: AbortSignal): Promise<LoadResult> {
  const args = { concurrency, durationS, timeoutS: 5, trim: 0, engine: 'eventbench' as const };
  const out = await hosts.client.load({ url, flags: closedLoadFlags(args), limitS: durationS + 20, closed: args }, signal);
  if (!out.result) throw new Error(out.error ?? 'the client was stopped');
  return out.result;
}

/**
 * Calibrates on hosts not yet set up for a phase: sets them up with the probe's quota, measures, tears them down.
 * Throws what went wrong (the probe did not start, the client gave no result).
 */
export async function calibrate(i: CalibrationInput): Promise<Calibration> {
  const t0 = performance.now();
  const concurrency = i.concurrency ?? 100;
  const durationS = i.durationS ?? 1.5;
  const cpus = i.serverCpus !== undefined ? { cpus: i.serverCpus } : {};
  await i.hosts.server.setUp({ ...cpus, cpuShare: PROBE_SHARE, periodMs: i.periodMs });
  await i.hosts.client.setUp(i.clientCpus !== undefined ? { cpus: i.clientCpus } : {});
  let started: StartedServer | undefined;
  try {
    const s = await i.hosts.server.start({ ...i.probe, throttleAfterWarmUp: true }, i.signal);
    if (s === 'aborted') throw new Error('aborted');
    if ('failed' in s) throw new Error(`the probe ${i.probe.name} did not start: ${s.failed}`);
    started = s;
    // Warm both sides (the probe's pages, the client's connections), then the client's rate against the full core.
    await loadOnce(i.hosts, s.url, concurrency, 0.5, i.signal);
    const full = await loadOnce(i.hosts, s.url, concurrency, durationS, i.signal);
    await i.hosts.server.throttle(s.id);
    await loadOnce(i.hosts, s.url, concurrency, 0.3, i.signal);
    const slow = await loadOnce(i.hosts, s.url, concurrency, durationS, i.signal);
    return choose(i, full, slow, (performance.now() - t0) / 1000);
  } finally {
    if (started) await i.hosts.server.stop(started.id);
    await i.hosts.client.tearDown();
    await i.hosts.server.tearDown();
  }
}

/** The quota from the two measurements: the client's rate at the probe's full core, the probe's rate under PROBE_SHARE. */
function choose(i: CalibrationInput, full: LoadResult, slow: LoadResult, durationS: number): Calibration {
  const capacity = full.throughputRps;
  const perCore = slow.throughputRps / PROBE_SHARE;
  const fits = roundShare(capacity / (HEADROOM * perCore));
  const chosen = i.share ?? Math.min(MAX_SHARE, Math.max(MIN_SHARE, fits));
  const headroom = capacity / (perCore * chosen);
  const probe = i.probe.name;
  const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} requests/s`;
  const why =
    i.share !== undefined
      ? `the quota of ${chosen} core was given (--server-cpu-share): it leaves the client ${headroom.toFixed(1)}× what ${probe} needs`
      : fits > MAX_SHARE
        ? `the client (${rate(capacity)}) has room for ${probe} at more than a quarter core (${rate(perCore)} per core): the quota stays at ${MAX_SHARE}`
        : fits < MIN_SHARE
          ? `the client (${rate(capacity)}) is too slow for ${probe} (${rate(perCore)} per core) even at ${MIN_SHARE} core: ${headroom.toFixed(1)}× headroom only`
          : `${chosen} core, at which ${probe} (${rate(perCore)} per core) needs at most 1/${HEADROOM} of the client's ${rate(capacity)}`;
  return {
    clientCapacityRps: capacity,
    ...(full.clientCpu ? { clientCpuShare: full.clientCpu.share } : {}),
    concurrency: i.concurrency ?? 100,
    ...(full.transport ? { transport: full.transport } : {}),
    probe,
    probeShare: PROBE_SHARE,
    probeRpsPerCore: perCore,
    headroomAsked: HEADROOM,
    chosenShare: chosen,
    headroom,
    why,
    durationS,
  };
}
