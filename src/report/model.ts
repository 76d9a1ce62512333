// The report's model: everything the figures and tables show, computed once from the stored run. Pure: the
// renderers only format it. Repeats of one (server, load) are averaged; each server's mean serving time is fitted
// against the offered load (the paper's Figure 2). A repeat that served nothing is not a value: it is counted and
// said, never averaged in as 0. Memory per connection comes from the memory experiment only (memory.json). Each
// idea has its file: the ranking (ranking.ts, ties.ts), today against the paper (paper-comparison.ts), what limits
// the reading (notes.ts), the open loop (open-loop.ts); this file puts them together.
import { openLoopModel, type OpenLoopModel } from './open-loop.js';
import type { Environment } from '../core/environment.js';
import { MEASURED_LOAD_FLOOR } from '../load/types.js';
import type { HostSetup, Plan, RunHosts, RunInfo } from '../results/schema.js';
import type { ServerSummary } from '../analysis/summary.js';
import { chooseRatioReference } from '../analysis/ratios.js';
import type { ReportInput } from './read.js';
import type { MemoryRun } from '../experiments/memory.js';
import { rankingOrder, rankServers, summariseAll, type Ties } from './ranking.js';
import { chooseReference, comparePaper, type ComparisonRow, type Reference } from './paper-comparison.js';
import { budgetOf, flagImprecise, precisionOf, reportNotes, type Budget, type Precision } from './notes.js';
import { answer } from './answer.js';
import { paperClaims, type Claim } from './claims.js';

export type { ComparisonRow, Reference, Ties };

export const REPORT_SCHEMA = 'eventbench.report/1';

/** A point is client-bound when the measured load l_m falls below this share of the offered load l. */
export const CLIENT_BOUND_SHARE = MEASURED_LOAD_FLOOR;

export interface ReportModel {
  schema: typeof REPORT_SCHEMA;
  /** The answer first: a sentence a line, made from the ranking's ratios and intervals (answer.ts). */
  answer: string[];
  /** The paper's claims, each with its number, this run's and a verdict (claims.ts). */
  claims: Claim[];
  run: { id: string; startedAt: string; finishedAt?: string; state: 'finished' | 'interrupted' | 'in progress' };
  plan: Plan;
  host: HostSetup;
  /** The server host's environment. */
  environment: Environment;
  /** Where servers and clients ran and the path between them (run/3); absent for older runs, made on one machine. */
  hosts?: RunHosts;
  /** Ranked by slope, fastest first; servers without a fit last, in plan order. */
  servers: ServerSummary[];
  skipped: RunInfo['skipped'];
  /** The runner's warnings, in order. */
  warnings: string[];
  /** What the report itself had to skip, assume or fall back to. */
  notes: string[];
  reference: Reference;
  comparison: ComparisonRow[];
  /** The server every ratio of the ranking divides by, and why that one. */
  ratioReference: { server: string | null; why: string };
  /** The ranking's tie groups and the overlaps that chain across them (src/report/ties.ts). */
  ties: Ties;
  /** The open loop's curves and knees (src/report/open-loop.ts), for runs made with --open-loop. */
  openLoop?: OpenLoopModel;
  /** The memory experiment of this run folder (memory.json), as stored: memory per connection comes only from it. */
  memory?: MemoryRun;
  /** For a run that asked a precision (run --precision): how every ratio of this report stands against it. */
  precision?: Precision;
  /** The run's budget, s, and by how much and why it passed it (run.json), when it asked one. */
  budget?: Budget;
}

export interface ModelOptions {
  /** The server ratios divide by (`--reference`); default the run's own, else lighttpd, else native-epoll, else events. */
  reference?: string;
}

export function buildModel(stored: ReportInput, options: ModelOptions = {}): ReportModel {
  const { info: run } = stored;
  const servers = summariseAll(stored);
  // The run's own --reference, where it asked one, unless the report is asked another.
  const paired = run.plan.cycles !== undefined && options.reference === undefined && run.plan.reference !== undefined;
  const chosen = chooseRatioReference(servers, options.reference ?? run.plan.reference);
  // The paired design chose its reference when it started, and swept it between the others in every cycle.
  const ratioReference =
    paired && chosen.server === run.plan.reference
      ? { server: chosen.server, why: `Ratios are to ${chosen.server}, the run's reference, swept between the others in every cycle.` }
      : chosen;
  const ties = rankServers(servers, ratioReference.server, stored);
  rankingOrder(servers);
  const reference = chooseReference(servers);
  const notes = reportNotes(stored, servers, reference);
  const precision = precisionOf(stored, ratioReference.server);
  flagImprecise(servers, precision);
  const state = run.interrupted ? 'interrupted' : run.finishedAt ? 'finished' : 'in progress';
  const model: Omit<ReportModel, 'answer' | 'claims'> = {
    schema: REPORT_SCHEMA,
    run: { id: run.id, startedAt: run.startedAt, ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}), state },
    plan: run.plan,
    host: run.host,
    environment: run.environment,
    ...(run.hosts ? { hosts: run.hosts } : {}),
    servers,
    skipped: run.skipped,
    warnings: run.warnings,
    notes,
    reference,
    comparison: comparePaper(servers, reference),
    ratioReference,
    ties,
    ...(stored.openPoints ? { openLoop: openLoopModel(stored.openPoints, run.plan.servers) } : {}),
    ...(stored.memory ? { memory: stored.memory } : {}),
    ...(precision ? { precision } : {}),
    ...budgetOf(run),
  };
  const { schema, ...rest } = model;
  return { schema, answer: answer(model), claims: paperClaims(model), ...rest };
}
