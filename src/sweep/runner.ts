// `eventbench run` as a library: plan the run (or read the one to resume), then run each of its phases in order on
// the sweep engine (./engine.ts): the closed sweep, the open loop when asked, the memory experiment. Each phase
// measures only what is missing and keeps every finished point on disk; a phase that can no longer measure what it
// planned (a server no longer installed) is named with the reason. It reports what happens through `onEvent`; the
// CLI draws it.
import { findModel, models as allModels, type Availability, type ServerModel } from '../servers/registry.js';
import type { Hosts } from '../host/hosts.js';
import { localHosts } from '../host/local.js';
import { checkHostsInput, givenHostsRecord, openRunHosts, recordedHosts, type HostsInput, type RunHostsOpened } from '../host/run-hosts.js';
import type { MemoryRun, OpenPoint, PhaseName, Point, RunInfo } from './schema.js';
import { RUN_SCHEMA } from './schema.js';
import { QUICK_DEFAULTS, RUN_DEFAULTS, resolvePlan, type PlanInput } from './plan.js';
import { runPhase, type EngineEvent } from './engine.js';
import { createRunDir, defaultRunDir, readRun, readRunInfo, writeMemoryRun, writeRunInfo } from './store.js';
import type { TrialSettings } from './session.js';
import { preparePhase, resolvePhases, type RunState } from '../experiments/phases.js';

export type RunEvent =
  | { type: 'start'; dir: string; info: RunInfo }
  | { type: 'phase'; phase: PhaseName; kept: number; total: number; notes: string[]; missing: string[] }
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
  /** The server's host and the client hosts to reach (run --server-host, --client-hosts); default: this machine. */
  hostsInput?: HostsInput;
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
  let warn = (text: string) => { early.push(text); };
  const hosts = opened?.hosts ?? o.hosts ?? localHosts();
  // Which models can run is the server host's to say when it is reached through an agent.
  const available = opened?.serverAgent ? (m: ServerModel) => hosts.server.available(m.name) : undefined;
  const state = o.resume !== undefined ? await resumeRun(o.resume, o.catalog ?? allModels, o.catalog === undefined, available)
    : await newRun(o, hosts, available);
  const { dir, info } = state;
  info.hosts = opened?.record ?? await givenHostsRecord(hosts);
  info.warnings.push(...early);
  warn = (text) => { info.warnings.push(text); emit({ type: 'warning', text }); };
  let interrupted = false;
  try {
    writeRunInfo(dir, info);
    emit({ type: 'start', dir, info });
    interrupted = await runPhases(state, { ...o, hosts }, emit, warn);
  } finally {
    info.finishedAt = new Date().toISOString();
    if (interrupted || o.signal?.aborted) info.interrupted = true;
    writeRunInfo(dir, info);
  }
  const memory = state.memory ? { memory: state.memory } : {};
  return { dir, info, points: state.points, openPoints: state.openPoints, ...memory, interrupted: info.interrupted === true };
}

/**
 * The hosts the run asks for (or, on resume, those it recorded), checked against its plan and reached before anything
 * starts; undefined when the caller gave its own hosts.
 */
async function reachHosts(o: RunOptions): Promise<RunHostsOpened | undefined> {
  if (o.hosts) return undefined;
  const stored = o.resume !== undefined ? readRunInfo(o.resume) : undefined;
  const input = stored ? recordedHosts(stored.hosts) : o.hostsInput ?? {};
  const i = o.input;
  checkHostsInput(input, stored
    ? { loads: stored.plan.loads, engine: stored.plan.engine, openLoop: stored.phases.some((p) => p.phase === 'open') }
    : {
      loads: i.loads ?? (i.quick ? QUICK_DEFAULTS.loads : RUN_DEFAULTS.loads), engine: i.engine ?? RUN_DEFAULTS.engine,
      openLoop: i.openLoop !== undefined,
    });
  return openRunHosts(input, o.signal);
}

/** Each phase in order, each measuring what it misses; resolves to whether the run was interrupted. */
async function runPhases(state: RunState, o: RunOptions, emit: (e: RunEvent) => void, warn: (t: string) => void): Promise<boolean> {
  const { info } = state;
  const hosts = o.hosts ?? localHosts();
  delete info.incomplete;
  for (const phase of info.phases) {
    if (o.signal?.aborted) return true;
    const p = preparePhase(phase, state, { warn, ...(o.trial ? { trial: o.trial } : {}) });
    if (p.missing.length > 0) (info.incomplete ??= []).push(...p.missing.map((why) => ({ phase: phase.phase, why })));
    const total = p.sweeps.reduce((a, s) => a + s.steps.length, 0);
    emit({ type: 'phase', phase: phase.phase, kept: p.kept, total, notes: p.notes, missing: p.missing });
    if (p.sweeps.length > 0) {
      const r = await runPhase(p.experiment, p.sweeps, { hosts, emit, warn, ...(o.signal ? { signal: o.signal } : {}) });
      if (phase.phase === 'closed') info.host = r.host;
      writeRunInfo(state.dir, info);
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

/** A new run: the plan resolved and checked, its folder created, its servers split into runnable and skipped. */
async function newRun(o: RunOptions, hosts: Hosts, available?: (m: ServerModel) => Promise<Availability>): Promise<RunState> {
  const resolved = await resolvePlan(o.input, available, o.catalog ?? allModels);
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
  return { dir, info, points: [], openPoints: [], runnable: resolved.models };
}

const RESUME_SKIP = 'on resume: ';

/** An earlier run to complete: its plan and phases, what it holds, and which of its servers can still run here. */
async function resumeRun(folder: string, catalog: readonly ServerModel[], anyModel: boolean,
  available = (m: ServerModel) => m.available()): Promise<RunState> {
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
  info.warnings.push(...stored.notes);
  const memory = stored.memory ? { memory: stored.memory } : {};
  return { dir: stored.dir, info, points: stored.points, openPoints: stored.openPoints ?? [], ...memory, runnable };
}
