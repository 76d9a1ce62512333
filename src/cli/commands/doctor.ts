// `eventbench doctor`: prints each check of the host with the command that fixes it; exit 0 when a run would be
// trustworthy, 1 when something would distort it.
import type { Command } from '../command.js';
import { EXIT } from '../command.js';
import { numberArg, parseCommandArgs } from '../../core/args.js';
import { diagnose, type Check } from '../../host/doctor.js';
import { AgentLinks, parseHostSpec } from '../../host/link.js';
import { UsageError } from '../../core/errors.js';
import { SETTINGS, settingHelp } from '../../core/defaults.js';
import { MAX_THROTTLE_PERIOD_MS, MIN_THROTTLE_PERIOD_MS } from '../../host/throttle.js';

const HELP = `eventbench doctor: what on this host would distort a run, each with the command that fixes it.

Usage: eventbench doctor [--max-load N] [--throttle-period-ms MS] [--server-cpu-share X] [--host ssh://[user@]host[:port]]

  --max-load N              the largest load you plan to offer (default ${Math.max(...SETTINGS.loads.value)}), e.g. --max-load 2000
${settingHelp(SETTINGS.throttlePeriodMs, 28, 'the quota period to calibrate')}
  --server-cpu-share X      the quota you will give each server (run --server-cpu-share), to check the client's
                            headroom against it (default: the quota a run would choose, as it does), e.g. 0.25
  --host HOST               check that host instead, through eventbench's agent there over ssh (the host of
                            \`run --server-host\` or \`--client-hosts\`); it must run this eventbench version,
                            e.g. --host ssh://bench@192.168.1.20
  --remote-eventbench CMD   how ssh starts eventbench there (default \`eventbench\` on its PATH)

Checks somaxconn and tcp_max_syn_backlog against the largest load, local ports and TIME_WAIT, the open files
limit, cores for pinning and taskset, the client's capacity (new connections per second against the fastest
server that runs here, at the full core) and the headroom it leaves that server under the quota, which must be
2× at least, whether the cgroup CPU quota is writable and the share the kernel really enforces (a one-second busy
loop under that quota), the C compiler and libraries of the
native servers, ab, and which servers can run. Exit status: 0 a run would be trustworthy, 1 it would not.`;

export const doctor: Command = {
  name: 'doctor',
  help: HELP,
  async run(argv) {
    const { values } = parseCommandArgs('doctor', argv, {
      'max-load': { type: 'string' },
      'throttle-period-ms': { type: 'string' },
      'server-cpu-share': { type: 'string' },
      host: { type: 'string' },
      'remote-eventbench': { type: 'string' },
    });
    const maxLoad = numberArg('--max-load', values['max-load'] as string | undefined, 1, 1_000_000);
    const periodText = values['throttle-period-ms'] as string | undefined;
    const period = numberArg('--throttle-period-ms', periodText, MIN_THROTTLE_PERIOD_MS, MAX_THROTTLE_PERIOD_MS, false);
    const share = numberArg('--server-cpu-share', values['server-cpu-share'] as string | undefined, 0.001, 64, false);
    const host = values.host as string | undefined;
    const remoteCommand = values['remote-eventbench'] as string | undefined;
    if (remoteCommand !== undefined && host === undefined) {
      throw new UsageError('--remote-eventbench', remoteCommand, 'belongs to --host', 'add --host or drop it');
    }
    if (host === undefined) return printChecks(await diagnose(maxLoad, undefined, period, share), 'here');
    const spec = parseHostSpec(host, '--host');
    const links = new AgentLinks(remoteCommand !== undefined ? { remoteCommand } : {});
    try {
      const [link] = await links.open([spec]);
      process.stdout.write(`eventbench doctor on ${host} (${link!.hello!.hostname}, eventbench ${link!.hello!.eventbenchVersion}):\n`);
      return printChecks(
        await link!.request<Check[]>('doctor', { maxLoad, throttlePeriodMs: period, serverCpuShare: share }),
        `on ${host}`,
      );
    } finally {
      await links.closeAll();
    }
  },
};

/** Each check with its fix, and the verdict; the exit status. */
function printChecks(checks: Check[], where: string): number {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    process.stdout.write(`${mark[c.status]}  ${c.name.padEnd(width)}  ${c.detail}\n`);
    if (c.fix) process.stdout.write(`      ${''.padEnd(width)}  fix: ${c.fix}\n`);
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const fix = `${failed} problem(s) would distort a run; fix them first.\n`;
  process.stdout.write(failed === 0 ? `A run ${where} would be trustworthy.\n` : fix);
  return failed === 0 ? EXIT.ok : EXIT.failure;
}
