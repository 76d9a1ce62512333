// `eventbench memory` as a library: the memory experiment (./memory.ts) over servers on its own, outside a run, on
// the sweep engine with this machine's hosts; DIR/memory.json is written after every server, so an interrupted
// experiment keeps what it measured.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ServerModel } from '../servers/types.js';
import { environment } from '../core/environment.js';
import { connectionsAllowed, openFilesLimit } from '../core/open-files.js';
import { somaxconn } from '../core/sysctl.js';
import { RUN_DEFAULTS } from '../sweep/plan.js';
import { MEMORY_SCHEMA, type MemoryRun, type MemoryServer, type Plan } from '../results/schema.js';
import { writeMemoryRun } from '../results/store.js';
import { runPhase } from '../sweep/engine.js';
import type { Hosts } from '../host/hosts.js';
import { localHosts } from '../host/local.js';
import type { TrialServer } from '../sweep/session.js';
import { MEMORY_DEFAULTS, memoryPhase, memorySweepsLeft } from './memory.js';

export interface MemoryRunOptions {
  servers: readonly ServerModel[];
  levels: readonly number[];
  budgetBytes: number;
  idleTimeoutS: number;
  settleMaxMs: number;
  /** Looks at a level's memory this far apart (default MEMORY_DEFAULTS.settleLookMs), ms. */
  settleLookMs?: number;
  quick: boolean;
  dir: string;
  /** argv starting a server; default `eventbench serve NAME ... --idle-timeout S --max-live MAX`. Tests set it. */
  serverArgv?: (server: TrialServer, plan: Plan) => string[];
  onServer?: (result: MemoryServer) => void;
  onWarning?: (text: string) => void;
  signal?: AbortSignal;
  hosts?: Hosts;
}

/** A fresh memory.json's header: what is asked, and the limits of this host that bound it. */
export function newMemoryRun(o: Pick<MemoryRunOptions, 'levels' | 'budgetBytes' | 'idleTimeoutS' | 'settleLookMs' | 'quick'>): MemoryRun {
  const files = openFilesLimit();
  const cap = somaxconn();
  return {
    schema: MEMORY_SCHEMA,
    startedAt: new Date().toISOString(),
    environment: environment(),
    levels: [...o.levels],
    budgetBytes: o.budgetBytes,
    idleTimeoutS: o.idleTimeoutS,
    settleLookMs: o.settleLookMs ?? MEMORY_DEFAULTS.settleLookMs,
    ...(files !== undefined ? { openFilesLimit: files } : {}),
    ...(cap !== undefined ? { somaxconn: cap } : {}),
    quick: o.quick,
    servers: [],
  };
}

/** The most idle connections this process may hold: its open files less its own. */
export const memoryConnectionsAllowed = (): number => connectionsAllowed(openFilesLimit() ?? 1024);

export async function runMemory(o: MemoryRunOptions): Promise<MemoryRun> {
  const dir = resolve(o.dir);
  // Private, as a run's folder: memory.json holds the environment (src/results/store.ts).
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const run = newMemoryRun(o);
  // The defaults' backlog and page; nothing else of a plan applies (no load, no quota, no pinning).
  const servers = o.servers.map((s) => s.name);
  const plan: Plan = { ...RUN_DEFAULTS, loads: [...RUN_DEFAULTS.loads], warmup: undefined, servers, serverCpuShare: 0 };
  const x = memoryPhase({
    dir,
    run,
    plan,
    settleMaxMs: o.settleMaxMs,
    settleLookMs: run.settleLookMs!,
    maxConnections: memoryConnectionsAllowed(),
    models: o.servers,
    ...(o.serverArgv ? { trial: { serverArgv: o.serverArgv } } : {}),
  });
  const sweeps = memorySweepsLeft(
    run,
    o.servers.map((s) => s.name),
  );
  const { aborted } = await runPhase(x, sweeps, {
    hosts: o.hosts ?? localHosts(),
    ...(o.signal ? { signal: o.signal } : {}),
    emit: (e) => {
      if (e.type === 'point' && e.kept.phase === 'memory') o.onServer?.(e.kept.server);
    },
    warn: (t) => o.onWarning?.(t),
  });
  if (!aborted) run.finishedAt = new Date().toISOString();
  writeMemoryRun(dir, run);
  return run;
}
