// The hosts of one `eventbench run`: this machine alone (the default), or the server on another host
// (--server-host: an agent there, every server started under that host's throttle and pinning) and the client split
// over several hosts (--client-hosts: agents whose shares of each point start at one instant and merge exactly).
// Everything is checked before any host is reached; then every agent is reached at once (one line naming the host
// for any that cannot be), its clock offset measured, and the address the servers listen on chosen: the one the
// clients reach. What was reached is recorded in run.json (RunHosts), and `run --resume` reaches the same again.
import { isIP } from 'node:net';
import os from 'node:os';
import { environment, type Environment } from '../core/environment.js';
import { HostError, UsageError } from '../core/errors.js';
import type { Engine } from '../load/types.js';
import type { ClockOffset } from '../core/clock-offset.js';
import type { Hosts } from './hosts.js';
import { AgentLinks, parseHostSpec, type AgentLink, type HostSpec } from './link.js';
import { LocalClientHost, LocalServerHost } from './local.js';
import { readState, sshConfigFor } from './namespaces.js';
import { AgentsClientHost, Reconnecting, RemoteServerHost } from './remote.js';

/** One host of a run, as it said it was when the run reached it. */
export interface HostRecord {
  /**
   * How the runner reached it: "here" (in the runner's own process, no agent), "local" (an agent in a child process of
   * the runner) or "ssh://[user@]host[:port]" (an agent over ssh); --resume reconnects to the same.
   */
  host: string;
  /** Its host name, as it reported it. */
  hostname: string;
  /** Its kernel, CPU, runtime and eventbench versions. */
  environment: Environment;
  /**
   * Its monotonic clock minus the runner's, ms, with the bound of that estimate (half the best round trip) and the
   * round trip it came from, measured over its link before the run (NTP's way, src/core/clock-offset.ts). Absent for
   * "here". A point split over client hosts records each one's offset again as measured just before it
   * (LoadResult.agents.parts).
   */
  clock?: ClockOffset;
}

/** run.json's `hosts`: the server's host, the client hosts, and the path between them. */
export interface RunHosts {
  /**
   * The path from the clients to the server: "loopback" (one kernel, MTU 65536), "namespaces" (the network
   * namespaces of `eventbench hosts up`: veth links at `mtu` bytes, shaped to `rate` by tbf where given, delayed by
   * netem by `delayMs` ms one way where given) or "ssh" (other machines, reached over ssh: the network between them).
   */
  path: { kind: 'loopback' | 'namespaces' | 'ssh'; mtu?: number; rate?: string; delayMs?: number };
  /** The host every server ran on (`run --server-host`), and the address its servers listened on (`serve --host`). */
  server: HostRecord & { address: string };
  /**
   * The client hosts (`run --client-hosts`): each point's closed loop split over them, in this order; without
   * --client-hosts, one: "here" (the runner's own `eventbench load`).
   */
  clients: HostRecord[];
  /** How eventbench was started on the ssh hosts (`--remote-eventbench`), when not `eventbench` on their PATH. */
  remoteCommand?: string;
}

/** Where a run's servers and clients run, as the user gave it (run's flags); all absent: this machine alone. */
export interface HostsInput {
  /** `--server-host`: "local" (an agent in a child process) or "ssh://[user@]host[:port]". */
  serverHost?: string;
  /** `--server-address`: the address the servers listen on, where the clients reach them. */
  serverAddress?: string;
  /** `--client-hosts`: each point's load split over these. */
  clientHosts?: string[];
  /** `--remote-eventbench`: how ssh starts eventbench on those hosts. */
  remoteCommand?: string;
}

/** What the run will do that the hosts must allow: its smallest load, its client engine, whether it has an open loop. */
export interface HostsNeeds {
  loads: readonly number[];
  engine: Engine;
  openLoop: boolean;
}

const LOOPBACK = '127.0.0.1';

/** Checks the hosts' flags against the plan, before anything is reached: one line for the first that is wrong. */
export function checkHostsInput(h: HostsInput, needs: HostsNeeds): void {
  if (h.serverHost !== undefined) parseHostSpec(h.serverHost, '--server-host');
  if (h.clientHosts !== undefined) {
    const form = 'expected local or ssh://[user@]host[:port], comma-separated';
    if (h.clientHosts.length === 0) throw new UsageError('--client-hosts', '', form);
    for (const c of h.clientHosts) parseHostSpec(c, '--client-hosts');
    const least = Math.min(...needs.loads);
    const n = h.clientHosts.length;
    if (least < n) {
      throw new UsageError(
        '--client-hosts',
        `${n} hosts`,
        `the limit is the smallest load (${least}): each client host keeps at least ` + 'one request in flight',
        'raise --loads or list fewer client hosts',
      );
    }
    if (needs.engine !== 'eventbench') {
      throw new UsageError(
        '--client-hosts',
        h.clientHosts.join(','),
        'merges per-request records, which only the eventbench engine keeps',
        'drop --engine ab or --client-hosts',
      );
    }
    if (needs.openLoop) {
      const why = 'splits a closed loop; the open loop (--open-loop) runs from one client';
      throw new UsageError('--client-hosts', h.clientHosts.join(','), why, 'drop --open-loop or --client-hosts');
    }
  }
  if (h.serverAddress !== undefined && isIP(h.serverAddress) === 0) {
    throw new UsageError(
      '--server-address',
      h.serverAddress,
      "expected an IP address of the server host's own interfaces",
      'e.g. --server-address 192.168.1.30',
    );
  }
  const anyAgent = h.serverHost !== undefined || h.clientHosts !== undefined;
  if (h.remoteCommand !== undefined && !anyAgent) {
    throw new UsageError('--remote-eventbench', h.remoteCommand, 'belongs to --server-host or --client-hosts', 'add one or drop it');
  }
}

/** The hosts of a run, reached: what the engine runs on, what run.json records, and how to let them go. */
export interface RunHostsOpened {
  hosts: Hosts;
  record: RunHosts;
  /** Whether servers run through an agent (then the server host answers which models it can run). */
  serverAgent: boolean;
  /** What the agents removed on their hosts (left by an agent killed before), named by host, for the run's warnings. */
  notes: string[];
  /** Closes every link: each agent stops what it started, and the ssh master connections end. */
  close(): Promise<void>;
}

/** The input that reaches the hosts a run recorded (`run --resume`); a run/2 folder ran on this machine alone. */
export function recordedHosts(record: RunHosts | undefined): HostsInput {
  if (!record) return {};
  const agent = (r: HostRecord) => r.host !== 'here';
  return {
    ...(agent(record.server) ? { serverHost: record.server.host } : {}),
    ...(record.server.address !== LOOPBACK ? { serverAddress: record.server.address } : {}),
    ...(record.clients.some(agent) ? { clientHosts: record.clients.map((c) => c.host) } : {}),
    ...(record.remoteCommand !== undefined ? { remoteCommand: record.remoteCommand } : {}),
  };
}

/**
 * The hosts of a run to resume from its folder `dir`: each an address (data, checked as any host string), and how
 * eventbench was started on them (--remote-eventbench), a command, run only as the user gives it again (`given`) or
 * confirms: a folder whose run.json was edited runs nothing it names.
 */
export async function resumedHosts(
  dir: string,
  record: RunHosts | undefined,
  given: string | undefined,
  confirm?: (question: string) => Promise<boolean>,
): Promise<HostsInput> {
  const input = recordedHosts(record);
  const stored = input.remoteCommand;
  const field = '--remote-eventbench';
  if (stored === given) return input;
  if (stored === undefined) {
    const how = 'the run being resumed started eventbench on its hosts as it does by default (their PATH, or this checkout)';
    throw new UsageError(field, given, how, 'drop it');
  }
  if (given !== undefined) {
    const why = `is not the command the run started eventbench with, ${JSON.stringify(stored)} (its run.json): a results folder never chooses what runs`;
    throw new UsageError(field, given, why, 'give that one, or start a new run');
  }
  if (await confirm?.(`${dir}: run.json starts eventbench on the run's hosts with \`${stored} agent\`. Run that? [y/N] `)) return input;
  throw new UsageError(
    '--resume',
    dir,
    `its run.json starts eventbench on the run's hosts with ${JSON.stringify(stored)}, and a results folder never runs a command by itself`,
    'if it is yours, give it again with --remote-eventbench',
  );
}

/** This process as a host, for the record. */
const here = (env: Environment = environment()): HostRecord => ({ host: 'here', hostname: os.hostname(), environment: env });

/** Reaches every host of `h` (all at once), measures each one's clock, and builds the run's hosts. */
export async function openRunHosts(h: HostsInput, signal?: AbortSignal): Promise<RunHostsOpened> {
  const serverSpec = h.serverHost !== undefined ? parseHostSpec(h.serverHost, '--server-host') : undefined;
  const clientSpecs = (h.clientHosts ?? []).map((c) => parseHostSpec(c, '--client-hosts'));
  const specs = [...(serverSpec ? [serverSpec] : []), ...clientSpecs];
  // Interrupted, every answer is due within LINK_DEFAULTS.abortGraceMs: a stuck agent cannot hold the run.
  const links = new AgentLinks({
    ...(h.remoteCommand !== undefined ? { remoteCommand: h.remoteCommand } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    const opened = specs.length > 0 ? await openOrAbort(links, specs, signal) : [];
    const clocks = await Promise.all(opened.map((l) => l.clock()));
    const serverLink = serverSpec ? opened[0] : undefined;
    const clientLinks = opened.slice(serverSpec ? 1 : 0);
    const address = h.serverAddress ?? serverAddress(serverLink, clientLinks);
    const reconnecting = (l: AgentLink) => new Reconnecting(l, () => links.open([l.spec]).then(([again]) => again!));
    const hosts: Hosts = {
      server: serverLink
        ? new RemoteServerHost(reconnecting(serverLink), address)
        : new LocalServerHost(address === LOOPBACK ? undefined : address),
      client: clientLinks.length > 0 ? new AgentsClientHost(clientLinks.map(reconnecting)) : new LocalClientHost(),
    };
    const recordOf = (l: AgentLink): HostRecord => ({
      host: l.host,
      hostname: l.hello!.hostname,
      environment: l.hello!.environment,
      clock: clocks[opened.indexOf(l)]!,
    });
    const record: RunHosts = {
      path: pathOf(specs),
      server: { ...(serverLink ? recordOf(serverLink) : here()), address },
      clients: clientLinks.length > 0 ? clientLinks.map(recordOf) : [here()],
      ...(h.remoteCommand !== undefined ? { remoteCommand: h.remoteCommand } : {}),
    };
    const notes = opened.flatMap((l) => (l.hello!.removed ?? []).map((r) => `${l.host}: ${r}`));
    return { hosts, record, serverAgent: serverLink !== undefined, notes, close: () => links.closeAll() };
  } catch (err) {
    await links.closeAll();
    throw err;
  }
}

/** Opens the links; Ctrl-C while connecting closes them and says that nothing was started. */
async function openOrAbort(links: AgentLinks, specs: HostSpec[], signal?: AbortSignal): Promise<AgentLink[]> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new HostError(specs.map((s) => s.text).join(', '), 'interrupted while connecting: nothing was started'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
  try {
    return await Promise.race([links.open(specs), aborted]);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Where the servers listen when not told (--server-address): on a server host reached over ssh, its own address on
 * the path to the runner (SSH_CONNECTION there); on this machine with clients on other hosts, this machine's address
 * as the first of them sees it; else loopback.
 */
function serverAddress(server: AgentLink | undefined, clients: AgentLink[]): string {
  if (server) return server.hello!.ssh?.serverAddress ?? (server.spec.kind === 'ssh' ? server.spec.host : LOOPBACK);
  return clients.find((c) => c.hello!.ssh)?.hello?.ssh?.clientAddress ?? LOOPBACK;
}

/** The path between the hosts: loopback without ssh; the namespaces of `eventbench hosts up` (with their rate); or a network. */
function pathOf(specs: HostSpec[]): RunHosts['path'] {
  const ssh = specs.filter((s): s is Extract<HostSpec, { kind: 'ssh' }> => s.kind === 'ssh');
  if (ssh.length === 0) return { kind: 'loopback' };
  const state = ssh.every((s) => sshConfigFor(s.host)) ? readState() : undefined;
  if (!state) return { kind: 'ssh' };
  return {
    kind: 'namespaces',
    mtu: state.mtu,
    ...(state.rate ? { rate: state.rate } : {}),
    ...(state.delayMs !== undefined ? { delayMs: state.delayMs } : {}),
  };
}

/** The record of hosts given by the caller (tests, benches): the server host's environment, on this machine. */
export async function givenHostsRecord(hosts: Hosts): Promise<RunHosts> {
  return { path: { kind: 'loopback' }, server: { ...here(await hosts.server.environment()), address: LOOPBACK }, clients: [here()] };
}
