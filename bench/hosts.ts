// What every bench that measures servers shares: this machine's hosts set up as a run's phase sets them up (the
// server pinned and under its quota at its period, the client and the runner's warm-ups pinned), and put back after.
import type { HostSetup, Plan } from '../src/sweep/schema.js';
import type { Hosts } from '../src/host/hosts.js';
import { localHosts } from '../src/host/local.js';
import { setUpHosts, tearDownHosts } from '../src/sweep/engine.js';

export async function benchHosts(plan: Pick<Plan, 'serverCpus' | 'clientCpus' | 'serverCpuShare' | 'throttlePeriodMs'>): Promise<{ hosts: Hosts; host: HostSetup; done: () => Promise<void> }> {
  const hosts = localHosts();
  const { host, warnings } = await setUpHosts(hosts, { serverCpus: plan.serverCpus, clientCpus: plan.clientCpus, cpuShare: plan.serverCpuShare, periodMs: plan.throttlePeriodMs ?? 10 });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  let done = false;
  return { hosts, host, done: async () => { if (done) return; done = true; for (const w of await tearDownHosts(hosts)) process.stderr.write(`warning: ${w}\n`); } };
}

/** How a bench names the throttle in force. */
export const throttleText = (host: HostSetup): string =>
  host.throttle.mechanism === 'none' ? `UNTHROTTLED (${host.throttle.reason})` : `throttled to ${host.throttle.share} core in ${host.throttle.periodMs} ms periods (${host.throttle.mechanism})`;
