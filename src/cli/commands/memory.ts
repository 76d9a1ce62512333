// `eventbench memory`: what one more idle connection costs each server (src/experiments/memory.ts), stored in
// DIR/memory.json and rendered as memory.md, memory.html and fig-memory.svg.
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { parseCommandArgs } from '../../core/args.js';
import { UsageError } from '../../core/errors.js';
import { models } from '../../servers/registry.js';
import type { ServerModel } from '../../servers/types.js';
import { defaultRunDir } from '../../results/store.js';
import { MEMORY_DEFAULTS, MEMORY_QUICK, type MemoryServer } from '../../experiments/memory.js';
import { runMemory } from '../../experiments/memory-run.js';
import { memoryMarkdown, writeMemoryReport } from '../../report/memory.js';
import { USER_SERVER_HELP, USER_SERVER_OPTIONS, userServersOf } from '../user-servers.js';
import { MEMORY_FILE } from '../../results/schema.js';
import { refuseExisting } from './report.js';
import path from 'node:path';

const HELP = `eventbench memory: bytes per connection of each server, from idle connections held open.

Usage: eventbench memory [--servers LIST] [--levels LIST] [--memory-budget SIZE] [--quick] [--out DIR]

  --servers LIST        servers to measure, in order (default: every model that can run here, and yours)
                          eventbench memory --servers events,threads,native-epoll
${USER_SERVER_HELP}
  --levels LIST         idle connections held, ascending (default ${MEMORY_DEFAULTS.levels.join(',')})
                          eventbench memory --levels 0,500,1000
  --memory-budget SIZE  the budget each server's largest number of connections is extrapolated to, and the
                        memory past which a server stops getting more (default 1GiB; B, KiB, MiB, GiB)
                          eventbench memory --memory-budget 4GiB
  --quick               levels ${MEMORY_QUICK.levels.join(',')} and a shorter settle: a first look in a few minutes
  --out DIR             results folder (default results/<date-time>-memory); one that holds a memory.json
                        already is refused unless --force
                          eventbench memory --quick --out results/memory-1
  --force               replace the memory.json (and its report) of an --out DIR

Each server is started fresh with a ${MEMORY_DEFAULTS.idleTimeoutS} s idle timeout; the connections, each having sent
a partial request head, are added level by level and held; once the server's memory settles its process tree is
measured (PSS from smaps_rollup for several processes, RSS for one), and beside it the kernel memory charged to a
memory cgroup made for its processes (host-wide from /proc/meminfo, and flagged, where none can be made). A
fit with r < 0.9 or a slope not above 0 is reported as not measurable here. A server stops early (and says why)
when its connects are refused, it accepts fewer than 90% of them (its cap), it would pass the budget, or open
files run out (ulimit -n).`;

const UNITS: Record<string, number> = { b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, kb: 1e3, mb: 1e6, gb: 1e9 };

/** "1GiB", "512MiB", "1000000" -> bytes; the limit is 1 MiB to 1 TiB. */
export function parseBytes(field: string, raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(raw);
  const bytes = m ? Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] ?? NaN) : NaN;
  if (!Number.isFinite(bytes)) throw new UsageError(field, raw, 'expected a size such as 1GiB, 512MiB or a number of bytes');
  if (bytes < 2 ** 20 || bytes > 2 ** 40) throw new UsageError(field, raw, 'the limit is 1MiB to 1TiB');
  return Math.round(bytes);
}

function parseLevels(raw: string): number[] {
  const levels = raw.split(',').map((x) => Number(x.trim()));
  for (const l of levels)
    if (!Number.isInteger(l) || l < 0 || l > 1_000_000)
      throw new UsageError('--levels', raw, 'expected whole numbers from 0 to 1000000, e.g. 0,1000,2000');
  if (levels.some((l, i) => i > 0 && l <= levels[i - 1]!))
    throw new UsageError('--levels', raw, 'expected ascending levels, e.g. 0,1000,2000');
  return levels;
}

/** One server's result as one line: its cost per connection and r, or why not, and where it stopped. */
export function memoryLine(s: MemoryServer): string {
  const cost = s.measurable
    ? `${Math.round(s.fit!.bytesPerConnection)} B/connection, r ${s.fit!.r?.toFixed(3)}`
    : `not measurable here (${s.why})`;
  const kernel = s.kernel?.measurable ? `; kernel ${Math.round(s.kernel.fit!.bytesPerConnection)} B/connection (${s.kernel.source})` : '';
  const what = s.status === 'failed' ? `FAILED: ${s.reason}` : cost;
  return `${s.server}: ${what}${s.status === 'failed' ? '' : kernel}${s.stopped ? `; stopped at ${s.stopped.connections}: ${s.stopped.why}` : ''}`;
}

/** The --servers list, each a server; yours join it unless it names one of them (as in `run`). */
function serverNames(raw: string | undefined, all: readonly ServerModel[], user: readonly ServerModel[]): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!all.some((m) => m.name === n)) throw new UsageError('--servers', n, 'is not a server', 'see `eventbench serve --list`');
  }
  if (!names.some((n) => user.some((m) => m.name === n))) names.push(...user.map((m) => m.name));
  return names;
}

export const memory: Command = {
  name: 'memory',
  help: HELP,
  async run(argv) {
    const { values } = parseCommandArgs('memory', argv, {
      servers: { type: 'string' },
      levels: { type: 'string' },
      'memory-budget': { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string', short: 'o' },
      force: { type: 'boolean' },
      ...USER_SERVER_OPTIONS,
    });
    const out = values.out as string | undefined;
    if (out !== undefined) refuseExisting('--out', path.join(out, MEMORY_FILE), values.force === true);
    const user = userServersOf(values);
    const all = [...models, ...user];
    const quick = values.quick === true;
    const levels =
      values.levels !== undefined ? parseLevels(values.levels as string) : [...(quick ? MEMORY_QUICK : MEMORY_DEFAULTS).levels];
    const budgetBytes =
      values['memory-budget'] !== undefined
        ? parseBytes('--memory-budget', values['memory-budget'] as string)
        : MEMORY_DEFAULTS.budgetBytes;
    const names = serverNames(values.servers as string | undefined, all, user);
    const chosen = [];
    for (const m of names ? names.map((n) => all.find((x) => x.name === n)!) : all) {
      const a = await m.available().catch((e: Error) => ({ ok: false as const, reason: e.message, hint: '' }));
      if (a.ok) chosen.push(m);
      else process.stderr.write(`eventbench memory: skipping ${m.name}: ${a.reason}${a.hint ? `; ${a.hint}` : ''}\n`);
    }
    const dir = out ?? `${defaultRunDir()}-memory`;
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.on('SIGINT', onSigint);
    try {
      const run = await runMemory({
        servers: chosen,
        levels,
        budgetBytes,
        idleTimeoutS: MEMORY_DEFAULTS.idleTimeoutS,
        settleMaxMs: quick ? MEMORY_QUICK.settleMaxMs : MEMORY_DEFAULTS.settleMaxMs,
        quick,
        dir,
        signal: controller.signal,
        onServer: (s) => process.stderr.write(`${memoryLine(s)}\n`),
        onWarning: (t) => process.stderr.write(`warning: ${t}\n`),
      });
      process.stdout.write(memoryMarkdown(run));
      process.stdout.write(`report: ${await writeMemoryReport(dir)}\n`);
      return controller.signal.aborted ? EXIT.interrupted : EXIT.ok;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
