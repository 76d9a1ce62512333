// `eventbench doctor`: prints each check of the host with the command that fixes it; exit 0 when a run would be
// trustworthy, 1 when something would distort it.
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { numberArg, parseCommandArgs } from '../../core/args.js';
import { diagnose } from '../../host/doctor.js';
import { RUN_DEFAULTS } from '../../sweep/plan.js';
import { MAX_THROTTLE_PERIOD_MS, MIN_THROTTLE_PERIOD_MS } from '../../host/throttle.js';

const HELP = `eventbench doctor: what on this host would distort a run, each with the command that fixes it.

Usage: eventbench doctor [--max-load N] [--throttle-period-ms MS]

  --max-load N              the largest load you plan to offer (default ${Math.max(...RUN_DEFAULTS.loads)}), e.g. --max-load 2000
  --throttle-period-ms MS   the quota period to calibrate (default ${RUN_DEFAULTS.throttlePeriodMs}), e.g. --throttle-period-ms 100

Checks somaxconn and tcp_max_syn_backlog against the largest load, local ports and TIME_WAIT, the open files
limit, cores for pinning and taskset, whether the cgroup CPU quota is writable and the share the kernel really
enforces (a one-second busy loop under the run's quota), the C compiler and libraries of the
native servers, ab, and which servers can run. Exit status: 0 a run would be trustworthy, 1 it would not.`;

export const doctor: Command = {
  name: 'doctor',
  help: HELP,
  async run(argv) {
    const { values } = parseCommandArgs('doctor', argv, { 'max-load': { type: 'string' }, 'throttle-period-ms': { type: 'string' } });
    const maxLoad = numberArg('--max-load', values['max-load'] as string | undefined, 1, 1_000_000);
    const period = numberArg('--throttle-period-ms', values['throttle-period-ms'] as string | undefined, MIN_THROTTLE_PERIOD_MS, MAX_THROTTLE_PERIOD_MS, false);
    const checks = await diagnose(maxLoad, undefined, period);
    const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      process.stdout.write(`${mark[c.status]}  ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (c.fix) process.stdout.write(`      ${''.padEnd(width)}  fix: ${c.fix}\n`);
    }
    const failed = checks.filter((c) => c.status === 'fail').length;
    process.stdout.write(failed === 0 ? 'A run here would be trustworthy.\n' : `${failed} problem(s) would distort a run; fix them first.\n`);
    return failed === 0 ? EXIT.ok : EXIT.failure;
  },
};
