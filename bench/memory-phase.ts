// `npm run bench:memory-phase`: how long the memory phase of `eventbench run` takes (target: at most 90 s with every
// server installed), and whether its fits hold (r of at least 0.9 over at least 3 levels). Runs the phase exactly as
// a run does (src/experiments/phases.ts RUN_MEMORY: its levels, settle and budget; each server started fresh,
// unthrottled and unpinned) over every server that can run here, and prints each server's seconds and fit, the
// phase's total, and the total extrapolated to 26 servers from the per-server mean.
//   node dist/bench/memory-phase.js [--servers a,b,...] [--quick] [--smoke]
// --smoke: `events` alone at --quick levels, to check the code path in seconds (not a measurement).
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { models } from '../src/servers/registry.js';
import { MEMORY_DEFAULTS } from '../src/experiments/memory.js';
import { RUN_MEMORY, RUN_MEMORY_QUICK } from '../src/experiments/phases.js';
import { runMemory } from '../src/experiments/memory-run.js';

const TARGET_S = 90;
const SERVERS_SOON = 26;
const { values } = parseArgs({ options: { servers: { type: 'string' }, quick: { type: 'boolean' }, smoke: { type: 'boolean' } } });
const names = values.smoke ? ['events'] : values.servers?.split(',');
const chosen = [];
for (const m of names ? models.filter((x) => names.includes(x.name)) : models) {
  const a = await m.available();
  if (a.ok) chosen.push(m);
  else process.stderr.write(`skipped ${m.name}: ${a.reason}\n`);
}
const m = values.quick || values.smoke ? RUN_MEMORY_QUICK : RUN_MEMORY;
const dir = mkdtempSync(join(tmpdir(), 'eventbench-memory-phase-'));
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());
const t0 = performance.now();
let last = t0;
const rows: string[] = [];
try {
  const run = await runMemory({
    servers: chosen,
    levels: m.levels,
    budgetBytes: MEMORY_DEFAULTS.budgetBytes,
    idleTimeoutS: MEMORY_DEFAULTS.idleTimeoutS,
    settleMaxMs: m.settleMaxMs,
    settleLookMs: m.settleLookMs,
    quick: values.quick === true,
    dir,
    signal: controller.signal,
    onServer: (s) => {
      const now = performance.now();
      const fit = s.measurable
        ? `${Math.round(s.fit!.bytesPerConnection)} B/connection, r ${s.fit!.r?.toFixed(3)} over ${s.fit!.n} levels`
        : `not measurable here: ${s.why}`;
      const stopped = s.stopped ? ` (stopped at ${s.stopped.connections}: ${s.stopped.why})` : '';
      rows.push(`${s.server.padEnd(16)} ${((now - last) / 1000).toFixed(1).padStart(5)} s  ${fit}${stopped}`);
      process.stderr.write(`${rows.at(-1)}\n`);
      last = now;
    },
    onWarning: (t) => process.stderr.write(`warning: ${t}\n`),
  });
  const totalS = (performance.now() - t0) / 1000;
  const perServerS = totalS / Math.max(1, run.servers.length);
  const fits = run.servers.filter((s) => s.measurable).length;
  process.stdout.write(
    [
      `memory phase: levels ${m.levels.join(', ')} (and the probe), looks ${m.settleLookMs} ms apart, settle at most ${m.settleMaxMs} ms`,
      ...rows,
      `total ${totalS.toFixed(1)} s for ${run.servers.length} servers (${perServerS.toFixed(1)} s each): ` +
        `${totalS <= TARGET_S ? 'within' : 'OVER'} the target of ${TARGET_S} s; ` +
        `${SERVERS_SOON} servers at that rate: ${(perServerS * SERVERS_SOON).toFixed(0)} s`,
      `fits with r >= 0.9: ${fits} of ${run.servers.length}`,
    ].join('\n') + '\n',
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
