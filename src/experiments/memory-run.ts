// Runs the memory experiment over servers: each started fresh (unthrottled, unpinned: memory does not depend on
// the CPU share) with the idle timeout raised, measured level by level (./memory.ts), stopped, and written to
// DIR/memory.json after every server so an interrupted experiment keeps what it measured.
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServerModel } from '../servers/types.js';
import { environment, sysctl } from '../core/environment.js';
import { connectionsAllowed, openFilesLimit } from '../core/open-files.js';
import { createThrottle } from '../host/throttle.js';
import { RUN_DEFAULTS } from '../sweep/plan.js';
import type { Plan } from '../sweep/schema.js';
import { defaultServerArgv, startSession, trialServer, type TrialServer } from '../sweep/session.js';
import { MEMORY_FILE, MEMORY_SCHEMA, measureMemory, type MemoryRun, type MemoryServer } from './memory.js';

export interface MemoryRunOptions {
  servers: readonly ServerModel[];
  levels: readonly number[];
  budgetBytes: number;
  idleTimeoutS: number;
  settleMaxMs: number;
  quick: boolean;
  dir: string;
  /** argv starting a server; default `eventbench serve NAME ... --idle-timeout S --max-live MAX`. Tests set it. */
  serverArgv?: (server: TrialServer, plan: Plan) => string[];
  onServer?: (result: MemoryServer) => void;
  signal?: AbortSignal;
}

function save(dir: string, run: MemoryRun): void {
  const tmp = join(dir, `${MEMORY_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(run, null, 2) + '\n');
  renameSync(tmp, join(dir, MEMORY_FILE));
}

export async function runMemory(o: MemoryRunOptions): Promise<MemoryRun> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const files = openFilesLimit();
  const somaxconn = Number(sysctl('net.core.somaxconn'));
  const run: MemoryRun = {
    schema: MEMORY_SCHEMA, startedAt: new Date().toISOString(), environment: environment(), levels: [...o.levels],
    budgetBytes: o.budgetBytes, idleTimeoutS: o.idleTimeoutS, ...(files !== undefined ? { openFilesLimit: files } : {}),
    ...(Number.isFinite(somaxconn) ? { somaxconn } : {}), quick: o.quick, servers: [],
  };
  const plan: Plan = { ...RUN_DEFAULTS, loads: [...RUN_DEFAULTS.loads], warmup: undefined, servers: o.servers.map((s) => s.name), serverCpuShare: 0 };
  const maxLevel = Math.max(...o.levels);
  // Per-connection models get a cap on live threads or processes above the largest level (the budget stops them first).
  const argv = o.serverArgv ?? ((server: TrialServer, p: Plan) => [...defaultServerArgv(server, p), '--idle-timeout', String(o.idleTimeoutS), '--max-live', String(Math.max(1, maxLevel + 100))]);
  const throttle = createThrottle(0);
  for (const model of o.servers) {
    if (o.signal?.aborted) break;
    const server: TrialServer = trialServer(model);
    const base = { server: model.name, family: model.family, ...(model.paperRow ? { paperRow: model.paperRow } : {}) };
    const session = await startSession({ server, plan, throttle, pin: false, serverArgv: argv, ...(o.signal ? { signal: o.signal } : {}) });
    let result: MemoryServer;
    if (session === 'aborted') break;
    if ('failed' in session) {
      result = { ...base, status: 'failed', reason: session.failed, levels: [], measurable: false, why: 'the server did not start' };
    } else {
      try {
        const measured = await measureMemory({
          url: session.url, members: session.members, ...(model.family === 'typescript' ? {} : { excludePid: session.rootPid }),
          levels: o.levels, budgetBytes: o.budgetBytes, settleMaxMs: o.settleMaxMs,
          maxConnections: connectionsAllowed(files ?? 1024), exitReason: () => session.exitReason('while connections were held'),
        });
        result = { ...base, status: 'ok', ...measured };
      } catch (err) {
        result = { ...base, status: 'failed', reason: (err as Error).message, levels: [], measurable: false, why: 'the measurement failed' };
      } finally {
        await session.close();
      }
    }
    run.servers.push(result);
    save(dir, run);
    o.onServer?.(result);
  }
  throttle.remove();
  run.finishedAt = new Date().toISOString();
  save(dir, run);
  return run;
}
