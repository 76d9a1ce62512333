// How `eventbench run` draws its progress on stderr: a redrawn bar on a terminal, one line per finished point
// otherwise; each event of the run (src/experiments/run.ts) in words that say what happened. The command only
// subscribes (src/cli/commands/run.ts).
import { CLEAR_LINE, progressLine } from './progress.js';
import type { RunEvent } from '../experiments/run.js';
import type { Kept } from '../sweep/engine.js';
import type { PhaseName, Point } from '../results/schema.js';
import { halfWidthText } from '../core/format.js';
import { errorKinds } from '../load/format.js';
import { hostsRows } from '../report/text.js';
import { memoryLine } from './commands/memory.js';

/** Seconds as 9m05s (rounded first, so 539.6 s reads 9m00s, not 8m60s), or 42s under a minute. */
export const fmtS = (seconds: number) => {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/** A point with no kept request (all errors) has null figures: a dash, never a throw. */
const f = (x: number | null | undefined, digits: number) => (typeof x === 'number' ? x.toFixed(digits) : '-');

export const PHASE_TITLE: Record<PhaseName, string> = { closed: 'closed loop', open: 'open loop', memory: 'memory' };

/** What a step of each phase is, for the progress bar. */
function stepText(phase: PhaseName, step: number): string {
  return phase === 'closed' ? `@ ${step}` : phase === 'open' ? `@ ${step} × capacity` : `holding ${step} connections`;
}

/**
 * What a finished point measured, in words that say what happened: a point that failed or got no response says
 * so, one that served too few requests for a rate says how few in how long, never "0 req/s".
 */
export function pointSummary(p: Point): string {
  const r = p.result;
  if (p.status !== 'ok' || !r) return `failed: ${p.reason ?? 'no reason recorded'}`;
  const served = r.requestsCompleted - r.errors.total;
  const span = `in ${r.totalDurationS.toFixed(1)} s at l=${p.load}`;
  if (served <= 0) {
    return `failed: no response${r.errors.total > 0 ? ` to ${r.errors.total} requests (${errorKinds(r.errors)})` : ''} ${span}`;
  }
  const tooSlow = p.flags?.some((f) => f.kind === 'too-slow') || r.throughputRps <= 0 || r.requests === 0;
  if (tooSlow) return `too slow: ${served} responses ${span}`;
  const { throughputRps: rps, latencyMs, measuredLoad } = r;
  return (
    `${rps.toFixed(0)} req/s, mean ${latencyMs.mean.toFixed(1)} ms, measured load ${measuredLoad.toFixed(1)}, ` + `errors ${r.errors.total}`
  );
}

/** One finished point as a line: what it measured, or why it failed, and why its server stops there. */
function keptLine(kept: Kept): { line: string; notable: boolean } {
  if (kept.phase === 'memory') return { line: `memory: ${memoryLine(kept.server)}`, notable: true };
  const p = kept.point;
  const r = p.status === 'ok' ? p.result : undefined;
  const stopped = p.stopped ? `; stopped: ${p.stopped}` : '';
  const notable = !r || p.stopped !== undefined;
  if (kept.phase === 'open') {
    const q = kept.point;
    const lag = f(r?.openLoop?.lagMs.percentiles['99'], 3);
    const p99 = f(r?.latencyMs.percentiles['99'], 2);
    const what = r
      ? `p50 ${f(r.latencyMs.median, 2)} ms, p99 ${p99} ms, lag p99 ${lag} ms, errors ${r.errors.total}`
      : `FAILED: ${p.reason}`;
    const at = `${q.rateRps} req/s (${q.rateFraction} × ${Math.round(q.capacityRps)}, round ${q.round})`;
    return { line: `open loop: ${q.server} @ ${at}: ${what}${stopped}`, notable };
  }
  const where = p.cycle !== undefined ? ` (round ${p.round}, cycle ${p.cycle})` : p.round > 1 ? ` #${p.round}` : '';
  return { line: `${p.server} @ ${kept.point.load}${where}: ${pointSummary(kept.point)}${stopped}`, notable };
}

/** What a phase will do: how many points (levels) it measures, and how many it keeps from before. */
function phaseLine(e: Extract<RunEvent, { type: 'phase' }>): string {
  const [steps, records] = e.phase === 'memory' ? ['level(s)', 'server(s)'] : ['point(s)', 'point(s)'];
  return `${PHASE_TITLE[e.phase]}: ${e.total} ${steps} to measure${e.kept ? `, ${e.kept} ${records} kept from before` : ''}`;
}

/** Where the phase runs its servers and its client. */
function hostLine(e: Extract<RunEvent, { type: 'host' }>): string {
  if (e.phase === 'memory') return 'servers unthrottled and unpinned: memory does not depend on the CPU share';
  const t = e.host.throttle;
  const quota = t.mechanism === 'none' ? ', unthrottled' : `, throttled to ${t.share} core in ${t.periodMs} ms periods (${t.mechanism})`;
  return `server on CPU ${e.cpus.server ?? 'any'}${quota}; client on CPU ${e.cpus.client ?? 'any'}`;
}

/** An added round: what it measures, then each server it sharpens and why (its interval against the one asked). */
function addedRoundLines(e: Extract<RunEvent, { type: 'added-round' }>): string[] {
  const { round, servers, reference, sharpening } = e.round;
  const left = `${fmtS(Math.max(0, e.budgetLeftS))} of the budget left`;
  return [
    `round ${round}, added: ${servers.join(', ')} (${reference} is the reference), priced at ${fmtS(e.priceS)}`,
    ...sharpening.map(
      (x) =>
        `sharpening ${x.server}: ratio to ${reference} ${halfWidthText(x.halfWidth)} after ${x.rounds} round(s), ` +
        `asked ${halfWidthText(e.asked)}; ${left}`,
    ),
  ];
}

/** A cycle added to a round: what it sweeps, then each server it sharpens and why. */
function addedCycleLines(e: Extract<RunEvent, { type: 'added-cycle' }>): string[] {
  const { round, cycle, servers, reference, sharpening } = e.cycle;
  const left = `${fmtS(Math.max(0, e.budgetLeftS))} of the budget left`;
  const others = servers.filter((s) => s !== reference);
  return [
    `${cycle === 1 ? `round ${round} added, fresh processes` : `round ${round}, cycle ${cycle} added`}: ${others.join(', ')}, ` +
      `${reference} between them, priced at ${fmtS(e.priceS)}; ${left}`,
    ...sharpening.map(
      (x) =>
        `sharpening ${x.server}: ratio to ${reference} ${halfWidthText(x.halfWidth)} after ${x.cycles} cycle(s), asked ${halfWidthText(e.asked)}`,
    ),
  ];
}

/** The client's capacity and the quota chosen from it. */
function calibrationLine(e: Extract<RunEvent, { type: 'calibration' }>): string {
  const c = e.calibration;
  const cpu = c.clientCpuShare !== undefined ? `, its core ${Math.round(c.clientCpuShare * 100)}% busy` : '';
  return (
    `client capacity ${Math.round(c.clientCapacityRps)} requests/s against ${c.probe} at the full core${cpu}; ` +
    `each server's quota: ${c.why} (${c.headroom.toFixed(1)}× headroom, ${c.durationS.toFixed(1)} s)`
  );
}

/** The closed sweep adds no more rounds: why, and which servers reached the precision. */
function precisionLines(e: Extract<RunEvent, { type: 'precision' }>): string[] {
  const lines = [`no more rounds or cycles added: ${e.stopped}`];
  const o = e.outcome;
  if (!o) return lines;
  const ranked = o.reached.length + o.missed.length;
  const missed = o.missed.map((m) => `${m.server} ${halfWidthText(m.halfWidth)}`).join(', ');
  const noRatio = o.noRatio.length > 0 ? `; no ratio: ${o.noRatio.join(', ')}` : '';
  if (ranked > 0) {
    lines.push(
      `precision ${halfWidthText(o.asked)} of every ratio to ${o.reference}: reached by ${o.reached.length} of ${ranked}` +
        `${missed ? `; not by ${missed}` : ''}${noRatio}`,
    );
  }
  return lines;
}

/** Progress on stderr: a redrawn bar on a terminal, one line per finished point otherwise. */
export function progress(tty: boolean): (e: RunEvent) => void {
  let offset = 0;
  const say = (line: string) => {
    if (tty) process.stderr.write(CLEAR_LINE);
    process.stderr.write(`${line}\n`);
  };
  const left = (etaS: number | undefined, before = ', ', after = '') => (etaS !== undefined ? `${before}${fmtS(etaS)} left${after}` : '');
  return (e) => {
    if (e.type === 'start') {
      say(`eventbench run into ${e.dir}: ${e.info.phases.map((p) => PHASE_TITLE[p.phase]).join(', then ')}`);
      for (const s of e.info.skipped) say(`skipped ${s.server}: ${s.reason}`);
      // Other hosts are named once, with their clocks, before anything is measured on them.
      const h = e.info.hosts;
      if (h && [h.server, ...h.clients].some((x) => x.host !== 'here')) for (const [k, v] of hostsRows(h)) say(`${k}: ${v}`);
    } else if (e.type === 'phase') {
      offset = e.kept;
      say(phaseLine(e));
      for (const line of [...e.notes, ...e.missing.map((m) => `cannot measure ${m}`)]) say(line);
    } else if (e.type === 'host') {
      say(hostLine(e));
    } else if (e.type === 'warning') {
      say(`warning: ${e.text}`);
    } else if (e.type === 'added-round' || e.type === 'precision') {
      for (const line of e.type === 'added-round' ? addedRoundLines(e) : precisionLines(e)) say(line);
    } else if (e.type === 'added-cycle') {
      for (const line of addedCycleLines(e)) say(line);
    } else if (e.type === 'calibration') {
      say(calibrationLine(e));
    } else if (e.type === 'point-start' && tty) {
      const text = `${e.index}/${e.total} ${e.server} ${stepText(e.phase, e.step)}${left(e.etaS)}`;
      process.stderr.write(progressLine(e.index / Math.max(1, e.total), text));
    } else if (e.type === 'point') {
      const { line, notable } = keptLine(e.kept);
      if (!tty) say(`[${offset + e.index + 1}/${offset + e.total}] ${line}${left(e.etaS, ' (', ')')}`);
      else if (notable) say(line);
    }
  };
}
