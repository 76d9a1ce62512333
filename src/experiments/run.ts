// `eventbench run` as a library: plan the run (or read the one to resume), then run each of its phases in order on
// the sweep engine (./engine.ts): the closed sweep, the open loop when asked, the memory experiment. Each phase
// measures only what is missing and keeps every finished point on disk; a phase that can no longer measure what it
// planned (a server no longer installed) is named with the reason. It reports what happens through `onEvent`; the
// CLI draws it.
import { findModel, models as allModels, type Availability, type ServerModel } from '../servers/registry.js';
import { calibrate, PROBES } from '../host/capacity.js';
import { DEFAULT_THROTTLE_PERIOD_MS } from '../host/throttle.js';
import { serverSpec, trialServer } from '../sweep/session.js';
import type { Hosts } from '../host/hosts.js';
import { localHosts } from '../host/local.js';
import { checkHostsInput, givenHostsRecord, openRunHosts, resumedHosts, type HostsInput, type RunHostsOpened } from '../host/run-hosts.js';
import { HostError } from '../core/errors.js';
import type {
  AddedCycle,
  AddedRound,
  Calibration,
  MemoryRun,
  OpenPoint,
  PhaseName,
  PhasePlan,
  Plan,
  Point,
  PrecisionOutcome,
  RunInfo,
} from '../results/schema.js';
import { RUN_SCHEMA } from '../results/schema.js';
import { QUICK_DEFAULTS, RUN_DEFAULTS, resolvePlan, type PlanInput } from '../sweep/plan.js';
import { runPhase, type EngineEvent, type EngineOptions } from '../sweep/engine.js';
import { addedCycleSweeps, addedSweeps, nextAddedCycle, nextAddedRound } from '../sweep/sharpen.js';
import { createRunDir, defaultRunDir, readRun, readRunInfo, writeMemoryRun, writeRunInfo } from '../results/store.js';
import type { TrialSettings } from '../sweep/session.js';
import { phaseNeedS, preparePhase, resolvePhases, type RunState } from './phases.js';
import { recordUserServers } from '../servers/user/index.js';

export type RunEvent =
  | { type: 'start'; dir: string; info: RunInfo }
  | { type: 'phase'; phase: PhaseName; kept: number; total: number; notes: string[]; missing: string[] }
  /** A round added after the planned ones (Plan.precision), priced at `priceS`; `budgetLeftS` of the budget were left. */
  | { type: 'added-round'; round: AddedRound; asked: number; priceS: number; budgetLeftS: number }
  /** A cycle added to a round (paired design), priced at `priceS`; `budgetLeftS` of the budget were left. */
  | { type: 'added-cycle'; cycle: AddedCycle; asked: number; priceS: number; budgetLeftS: number }
  /** The client's capacity measured and the servers' quota chosen from it, before the closed sweep. */
  | { type: 'calibration'; calibration: Calibration }
  /** No round is added any more, and why; how the precision stands (null when no ratio could be formed). */
  | { type: 'precision'; outcome: PrecisionOutcome | null; stopped: string }
  | EngineEvent;

export interface RunOptions {
  input: PlanInput;
  /** Folder for a new run (default results/<date-time>/). */
  out?: string;
  /** Folder of an earlier run to complete: its plan is reused, only missing points are measured. */
  resume?: string;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Servers to choose from (default: every model eventbench has). */
  catalog?: readonly ServerModel[];
  /** How servers are started and warmed (tests use tiny servers and fixed warm-ups). */
  trial?: TrialSettings;
  /** Where servers and clients run, already set up (tests, benches); default: as `hostsInput` says. */
  hosts?: Hosts;
  /** The user's own servers (--server, --servers-file), chosen from beside the catalog and recorded in the plan. */
  userModels?: readonly ServerModel[];
  /** Called with a new run's servers once its plan is checked, before anything is created or measured (run's short check). */
  preflight?: (models: readonly ServerModel[], plan: Plan) => Promise<void>;
  /** Seconds of the budget the caller still needs once the run returns (the CLI: its report, REPORT_PRICE_S). */
  reserveS?: number;
  /** The server's host and the client hosts to reach (run --server-host, --client-hosts); default: this machine. */
  hostsInput?: HostsInput;
  /**
   * Asked, on resume, whether to run a command the results folder names and the user did not give again (the CLI
   * asks on a terminal); absent, such a command is refused.
   */
  confirm?: (question: string) => Promise<boolean>;
}

export interface RunOutcome {
  dir: string;
  info: RunInfo;
  /** Every closed-loop point of the run, earlier ones included when resumed; and the open loop's. */
  points: Point[];
  openPoints: OpenPoint[];
  memory?: MemoryRun;
  interrupted: boolean;
}

/** What the phases of one session of a run share: its state, its options, and its budget's clock. */
interface RunContext {
  state: RunState;
  o: RunOptions;
  emit: (e: RunEvent) => void;
  warn: (text: string) => void;
  /** Seconds the run has spent, its earlier sessions included. */
  spentS: () => number;
  /** Writes run.json with the seconds spent so far. */
  save: () => void;
  /** Seconds each phase of this session took. */
  took: { phase: PhaseName; s: number }[];
}

export async function runExperiment(o: RunOptions): Promise<RunOutcome> {
  const opened = await reachHosts(o);
  try {
    return await runOn(o, opened);
  } finally {
    await opened?.close();
  }
}

/** The run on hosts reached (or given by the caller, `opened` undefined). */
async function runOn(o: RunOptions, opened: RunHostsOpened | undefined): Promise<RunOutcome> {
  // A fault in whoever draws progress must not end a run: it is reported once and drawing stops.
  const early: string[] = [...(opened?.notes ?? [])];
  let emit = (e: RunEvent) => {
    try {
      o.onEvent?.(e);
    } catch (err) {
      emit = () => {};
      warn(`progress display failed (${(err as Error).message}); the run goes on`);
    }
  };
  let warn = (text: string) => {
    early.push(text);
  };
  const catalog = [...(o.catalog ?? allModels), ...(o.userModels ?? [])];
  const t0 = performance.now();
  const hosts = opened?.hosts ?? o.hosts ?? localHosts();
  // Which models can run is the server host's to say when it is reached through an agent.
  const available = opened?.serverAgent ? (m: ServerModel) => hosts.server.available(m.name) : undefined;
  const state =
    o.resume !== undefined
      ? await resumeRun(o.resume, catalog, o.catalog === undefined, available)
      : await newRun(o, hosts, catalog, available);
  const { dir, info } = state;
  info.hosts = opened?.record ?? (await givenHostsRecord(hosts));
  info.warnings.push(...early);
  warn = (text) => {
    info.warnings.push(text);
    emit({ type: 'warning', text });
  };
  const before = info.spentS ?? 0;
  const spentS = () => before + (performance.now() - t0) / 1000;
  const save = () => {
    info.spentS = Math.round(spentS() * 10) / 10;
    writeRunInfo(dir, info);
  };
  const ctx: RunContext = { state, o: { ...o, hosts }, emit: (e) => emit(e), warn: (t) => warn(t), spentS, save, took: [] };
  let interrupted = false;
  let failure: unknown;
  try {
    save();
    emit({ type: 'start', dir, info });
    if (o.resume === undefined) await calibrateRun(ctx, catalog, available);
    interrupted = o.signal?.aborted === true || (await runPhases(ctx));
  } catch (err) {
    failure = err instanceof HostError ? stoppedBy(err, info, dir) : err;
  }
  info.finishedAt = new Date().toISOString();
  if (interrupted || failure !== undefined || o.signal?.aborted) info.interrupted = true;
  else judgeBudget(ctx, before);
  try {
    save();
  } catch (err) {
    // A run that failed already (a full disk) is told by its first error.
    failure ??= err;
  }
  if (failure !== undefined) throw failure;
  const memory = state.memory ? { memory: state.memory } : {};
  return { dir, info, points: state.points, openPoints: state.openPoints, ...memory, interrupted: info.interrupted === true };
}

/** A host that failed for good stops the run: its line, recorded in run.json, with where the finished points are. */
function stoppedBy(err: HostError, info: RunInfo, dir: string): HostError {
  info.hostFault = err.message;
  const said = err.message.slice(err.host.length + 2);
  const then = `the run stopped; its finished points are kept in ${dir}: \`eventbench run --resume ${dir}\` goes on once that host answers`;
  return new HostError(err.host, `${said}; ${then}`, err.fault);
}

/**
 * The hosts the run asks for (or, on resume, those it recorded, started as the user says now), checked against its
 * plan and reached before anything starts; undefined when the caller gave its own hosts.
 */
async function reachHosts(o: RunOptions): Promise<RunHostsOpened | undefined> {
  if (o.hosts) return undefined;
  const stored = o.resume !== undefined ? readRunInfo(o.resume) : undefined;
  const input = stored ? await resumedHosts(o.resume!, stored.hosts, o.hostsInput?.remoteCommand, o.confirm) : (o.hostsInput ?? {});
  const i = o.input;
  checkHostsInput(
    input,
    stored
      ? { loads: stored.plan.loads, engine: stored.plan.engine, openLoop: stored.phases.some((p) => p.phase === 'open') }
      : {
          loads: i.loads ?? (i.quick ? QUICK_DEFAULTS.loads : RUN_DEFAULTS.loads),
          engine: i.engine ?? RUN_DEFAULTS.engine,
          openLoop: i.openLoop !== undefined,
        },
  );
  return openRunHosts(input, o.signal);
}

/**
 * Before a new run's closed sweep, when no quota was given: the client's capacity against a probe server, and the
 * quota at which the probe leaves the client its headroom (src/host/capacity.ts), recorded in run.json and used for
 * every phase. A probe that cannot run, or a calibration that fails, leaves the default quota, and says why.
 */
async function calibrateRun(
  ctx: RunContext,
  catalog: readonly ServerModel[],
  available?: (m: ServerModel) => Promise<Availability>,
): Promise<void> {
  const { info } = ctx.state;
  const { plan } = info;
  if (plan.serverCpuShareFrom !== 'auto' || plan.cycles === undefined || plan.serverCpuShare === 0) return;
  const can = available ?? ((m: ServerModel) => m.available());
  let probe: ServerModel | undefined;
  for (const name of PROBES) {
    const model = catalog.find((m) => m.name === name) ?? findModel(name);
    if (model && (await can(model).catch(() => ({ ok: false }))).ok) {
      probe = model;
      break;
    }
  }
  const keep = `the quota stays at ${plan.serverCpuShare} core`;
  if (!probe) return ctx.warn(`no probe server (${PROBES.join(', ')}) can run here to measure the client's capacity: ${keep}`);
  try {
    const spec = serverSpec(trialServer(probe), plan, ctx.o.trial);
    const periodMs = plan.throttlePeriodMs ?? DEFAULT_THROTTLE_PERIOD_MS;
    const signal = ctx.o.signal ? { signal: ctx.o.signal } : {};
    const c = await calibrate({
      hosts: ctx.o.hosts!,
      probe: spec,
      serverCpus: plan.serverCpus,
      clientCpus: plan.clientCpus,
      periodMs,
      ...signal,
    });
    info.calibration = c;
    plan.serverCpuShare = c.chosenShare;
    ctx.save();
    ctx.emit({ type: 'calibration', calibration: c });
  } catch (err) {
    if (!ctx.o.signal?.aborted) ctx.warn(`the client's capacity could not be measured (${(err as Error).message}): ${keep}`);
  }
}

/** Each phase in order, each measuring what it misses; resolves to whether the run was interrupted. */
async function runPhases(ctx: RunContext): Promise<boolean> {
  const { state, o, emit, warn } = ctx;
  const { info } = state;
  delete info.incomplete;
  for (const [i, phase] of info.phases.entries()) {
    if (o.signal?.aborted) return true;
    const p = preparePhase(phase, state, { warn, ...(o.trial ? { trial: o.trial } : {}) });
    if (p.missing.length > 0) {
      info.incomplete ??= [];
      info.incomplete.push(...p.missing.map((why) => ({ phase: phase.phase, why })));
    }
    const total = p.sweeps.reduce((a, s) => a + s.steps.length, 0);
    emit({ type: 'phase', phase: phase.phase, kept: p.kept, total, notes: p.notes, missing: p.missing });
    // The closed sweep runs again on resume while it may still add rounds (it has not said why it stopped).
    const sharpen = phase.phase === 'closed' && info.plan.precision !== undefined && info.precisionOutcome === undefined;
    if (p.sweeps.length > 0 || sharpen) {
      const t = performance.now();
      const more = sharpen ? { more: sharpener(ctx, info.phases.slice(i + 1)) } : {};
      const timed = withTimeLeft(ctx, info.phases.slice(i + 1), sharpen);
      const r = await runPhase(p.experiment, p.sweeps, {
        hosts: o.hosts!,
        emit: timed,
        warn,
        ...more,
        ...(o.signal ? { signal: o.signal } : {}),
      });
      ctx.took.push({ phase: phase.phase, s: (performance.now() - t) / 1000 });
      if (phase.phase === 'closed') info.host = r.host;
      ctx.save();
      if (r.aborted) return true;
    }
    // memory.json says it is whole once every server it can measure is in it (a kill may have come just before).
    if (phase.phase === 'memory' && state.memory && state.memory.finishedAt === undefined) {
      state.memory.finishedAt = new Date().toISOString();
      writeMemoryRun(state.dir, state.memory);
    }
  }
  return false;
}

/**
 * The engine's events with the time left of the whole run, not of the phase alone: the phase's own clock, the
 * phases after it as priced, and what the caller keeps for its report; while a closed sweep adds cycles to spend
 * its budget, at least what the budget leaves.
 */
function withTimeLeft(ctx: RunContext, later: readonly PhasePlan[], sharpening: boolean): (e: EngineEvent) => void {
  const { state, o } = ctx;
  const budgetS = state.info.plan.budgetS;
  return (e) => {
    if ((e.type !== 'point-start' && e.type !== 'point') || e.etaS === undefined) return ctx.emit(e);
    const afterS = later.reduce((a, p) => a + phaseNeedS(p, state), 0) + (o.reserveS ?? 0);
    const byBudget = sharpening && budgetS !== undefined ? budgetS - ctx.spentS() : 0;
    ctx.emit({ ...e, etaS: Math.max(e.etaS + afterS, byBudget) });
  };
}

/**
 * The engine's `more` for the closed sweep: more cycles of the round that ends, or once no planned sweep is left a
 * round of fresh processes, for the servers whose intervals they narrow most (the paired design); or a round added at
 * the end (runs before run/4), while the clock says they end within
 * the budget less what must still run (the planned rounds left, the phases after this one, the report); none once
 * every server meets the precision or nothing more fits (then run.json says how the precision stands, and why).
 */
function sharpener(ctx: RunContext, later: readonly PhasePlan[]): NonNullable<EngineOptions['more']> {
  const { state, o } = ctx;
  const { info } = state;
  return (priceS, at) => {
    const plan = info.plan;
    const needS = later.reduce((a, p) => a + phaseNeedS(p, state), 0) + (o.reserveS ?? 0);
    const leftS = plan.budgetS! - ctx.spentS() - needS;
    const servers = state.runnable.map((m) => m.name);
    const budgetLeftS = () => plan.budgetS! - ctx.spentS();
    if (plan.cycles === undefined) {
      if (at.left.length > 0) return [];
      const next = nextAddedRound({ plan, points: state.points, added: info.addedRounds ?? [], servers, leftS, priceS });
      if ('stopped' in next) return stopSharpening(ctx, next);
      info.addedRounds ??= [];
      info.addedRounds.push(next.round);
      ctx.save();
      ctx.emit({ type: 'added-round', round: next.round, asked: plan.precision!, priceS: next.priceS, budgetLeftS: budgetLeftS() });
      return addedSweeps(plan, next.round);
    }
    if (at.round === undefined) return [];
    // The round that ends gets its share of what the planned rounds after it leave: they add cycles in turn.
    const roundsLeft = new Set(at.left.map((s) => s.round)).size;
    const shareS = (leftS - priceS(at.left)) / (roundsLeft + 1);
    const input = {
      ...{ plan, points: state.points, visits: state.visits, added: info.addedCycles ?? [], servers, round: at.round },
      ...{ session: info.sessions ?? 1, canAddRound: at.left.length === 0 },
    };
    const next = nextAddedCycle({ ...input, leftS: shareS, priceS });
    if ('stopped' in next) return at.left.length === 0 ? stopSharpening(ctx, next) : [];
    info.addedCycles ??= [];
    info.addedCycles.push(next.cycle);
    ctx.save();
    ctx.emit({ type: 'added-cycle', cycle: next.cycle, asked: plan.precision!, priceS: next.priceS, budgetLeftS: budgetLeftS() });
    return addedCycleSweeps(plan, next.cycle);
  };
}

/** No more rounds or cycles: run.json says how the precision stands, and why it stopped. */
function stopSharpening(ctx: RunContext, next: { stopped: string; outcome: PrecisionOutcome | null }): [] {
  if (next.outcome) ctx.state.info.precisionOutcome = next.outcome;
  ctx.save();
  ctx.emit({ type: 'precision', outcome: next.outcome, stopped: next.stopped });
  return [];
}

/**
 * A run that ended past its budget says by how much and why, with what each part took: the planned rounds run
 * whole (validity first), so a plan that needs more than the budget passes it; otherwise what followed the last
 * decision to add a round took longer than the clock priced it.
 */
function judgeBudget(ctx: RunContext, before: number): void {
  const { info } = ctx.state;
  const budgetS = info.plan.budgetS;
  delete info.overBudget;
  if (budgetS === undefined) return;
  const reserveS = ctx.o.reserveS ?? 0;
  const totalS = ctx.spentS() + reserveS;
  if (totalS <= budgetS) return;
  const added = info.addedRounds?.length ?? 0;
  const took = (t: RunContext['took'][number]) =>
    `${PHASE_NAMES[t.phase]} ${Math.round(t.s)} s` + `${t.phase === 'closed' && added > 0 ? ` (${added} round(s) added)` : ''}`;
  const parts = [
    ...(before > 0 ? [`earlier sessions ${Math.round(before)} s`] : []),
    ...ctx.took.map(took),
    ...(reserveS > 0 ? [`the report, priced at ${reserveS} s`] : []),
  ];
  const why =
    added === 0
      ? `validity first: the ${info.plan.rounds} planned rounds run whole, and with what follows them they need more than the budget`
      : 'the clock priced what followed the last round added within the budget, and it took longer';
  info.overBudget = { byS: Math.round((totalS - budgetS) * 10) / 10, why: `${why} (${parts.join(', ')}; budget ${budgetS} s)` };
}

const PHASE_NAMES: Record<PhaseName, string> = { closed: 'closed sweep', open: 'open loop', memory: 'memory phase' };

/** A new run: the plan resolved and checked, its folder created, its servers split into runnable and skipped. */
async function newRun(
  o: RunOptions,
  hosts: Hosts,
  catalog: readonly ServerModel[],
  available?: (m: ServerModel) => Promise<Availability>,
): Promise<RunState> {
  const resolved = await resolvePlan(o.input, available, catalog);
  Object.assign(resolved.plan, recordUserServers((o.userModels ?? []).filter((m) => resolved.plan.servers.includes(m.name))));
  await o.preflight?.(resolved.models, resolved.plan);
  const phases = resolvePhases(o.input);
  const dir = createRunDir(o.out ?? defaultRunDir());
  const info: RunInfo = {
    schema: RUN_SCHEMA,
    id: dir.split('/').pop() ?? dir,
    startedAt: new Date().toISOString(),
    plan: resolved.plan,
    phases,
    host: { throttle: { mechanism: 'none', share: 0 }, pinned: false },
    // The server's host: the machine whose speed the run measures.
    environment: await hosts.server.environment(),
    skipped: resolved.skipped,
    warnings: [...resolved.warnings],
  };
  return { dir, info, points: [], openPoints: [], visits: [], runnable: resolved.models };
}

const RESUME_SKIP = 'on resume: ';

/** An earlier run to complete: its plan and phases, what it holds, and which of its servers can still run here. */
async function resumeRun(
  folder: string,
  catalog: readonly ServerModel[],
  anyModel: boolean,
  available = (m: ServerModel) => m.available(),
): Promise<RunState> {
  const stored = readRun(folder);
  const { info } = stored;
  // Who can run is decided anew on each resume.
  info.skipped = info.skipped.filter((s) => !s.reason.startsWith(RESUME_SKIP));
  const runnable: ServerModel[] = [];
  for (const name of info.plan.servers) {
    const model = catalog.find((m) => m.name === name) ?? (anyModel ? findModel(name) : undefined);
    const a = model ? await available(model).catch((e: Error) => ({ ok: false as const, reason: e.message, hint: '' })) : undefined;
    if (model && a?.ok) runnable.push(model);
    else {
      const why = model ? (a && !a.ok ? a.reason : 'unavailable') : 'no longer a server model';
      info.skipped.push({ server: name, reason: RESUME_SKIP + why });
    }
  }
  delete info.finishedAt;
  delete info.interrupted;
  delete info.overBudget;
  // A resume measures in processes of its own: its points name its session (the paired design nests by it).
  info.sessions = (info.sessions ?? 1) + 1;
  delete info.hostFault;
  info.warnings.push(...stored.notes);
  const memory = stored.memory ? { memory: stored.memory } : {};
  const { points, openPoints, visits } = stored;
  return { dir: stored.dir, info, points, openPoints: openPoints ?? [], visits: visits ?? [], ...memory, runnable };
}
