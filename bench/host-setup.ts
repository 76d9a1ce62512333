// What every bench that measures servers shares: this machine's hosts set up as a run's phase sets them up (the
// server pinned and under its quota at its period, the client and the runner's warm-ups pinned), and put back after.
import type { HostSetup, Plan } from '../src/results/schema.js';
import type { Hosts } from '../src/host/hosts.js';
import { localHosts } from '../src/host/local.js';
import { setUpHosts, tearDownHosts } from '../src/sweep/engine.js';

type HostPlan = Pick<Plan, 'serverCpus' | 'clientCpus' | 'serverCpuShare' | 'throttlePeriodMs'>;

export async function benchHosts(plan: HostPlan): Promise<{ hosts: Hosts; host: HostSetup; done: () => Promise<void> }> {
  const hosts = localHosts();
  const phase = {
    serverCpus: plan.serverCpus,
    clientCpus: plan.clientCpus,
    cpuShare: plan.serverCpuShare,
    periodMs: plan.throttlePeriodMs ?? 10,
  };
  const { host, warnings } = await setUpHosts(hosts, phase);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  let torn = false;
  const done = async () => {
    if (torn) return;
    torn = true;
    for (const w of await tearDownHosts(hosts)) process.stderr.write(`warning: ${w}\n`);
  };
  return { hosts, host, done };
}

/** How a bench names the throttle in force. */
export function throttleText(host: HostSetup): string {
  const t = host.throttle;
  return t.mechanism === 'none' ? `UNTHROTTLED (${t.reason})` : `throttled to ${t.share} core in ${t.periodMs} ms periods (${t.mechanism})`;
}
