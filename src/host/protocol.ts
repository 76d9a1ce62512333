// What an agent (./agent.ts) and the runner's side of its link (./link.ts) say to each other, in one place: the
// protocol's version, the commands, the shape of a request, an answer, a hello, a clock reading and a load's answer.
// One JSON object per line each way; see ./agent.ts for what each command does.
import type { Environment } from '../core/environment.js';
import type { LoadInput } from '../load/options.js';
import type { EncodedRecords } from '../load/records.js';
import type { LoadResult } from '../load/types.js';
import type { ClientHost, ServerHost } from './hosts.js';

/** Bumped when a command or an answer changes shape; the runner checks it with the eventbench version. */
export const AGENT_PROTOCOL = 3;

/** The methods of ServerHost an agent answers as `server.NAME`, and of ClientHost as `client.NAME`. */
export const SERVER_CALLS = [
  'environment',
  'available',
  'setUp',
  'start',
  'throttle',
  'cpuUsage',
  'exitReason',
  'startSampling',
  'stopSampling',
  'memory',
  'connections',
  'stop',
  'tearDown',
] as const satisfies readonly (keyof ServerHost)[];

export const CLIENT_CALLS = ['environment', 'setUp', 'warm', 'load', 'tearDown'] as const satisfies readonly (keyof ClientHost)[];

export interface AgentRequest {
  id: number;
  cmd: string;
  [field: string]: unknown;
}

export type AgentAnswer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { code: string; message: string } };

export interface Hello {
  protocol: number;
  eventbenchVersion: string;
  nodeVersion: string;
  kernel: string;
  cpuModel: string;
  hostname: string;
  pid: number;
  environment: Environment;
  /**
   * The ssh connection it was reached by (SSH_CONNECTION on its side): the runner's address as this host sees it,
   * and this host's own address on the path to the runner (where its servers listen for clients there).
   */
  ssh?: { clientAddress: string; serverAddress: string };
  /** What an agent killed before it could clean up (its cgroups) left on this host, removed by this one: one line each. */
  removed: string[];
}

export interface ClockReading {
  monoMs: number;
  wallMs: number;
}

/** The options of a load an agent accepts (no file, no callback: it runs on another host). */
export const LOAD_FIELDS = [
  'url',
  'concurrency',
  'requests',
  'durationS',
  'timeoutS',
  'trim',
  'keepalive',
  'workers',
  'method',
  'transport',
] as const;

export type AgentLoadOptions = Pick<LoadInput, (typeof LOAD_FIELDS)[number]>;

export interface AgentLoadAnswer {
  result: LoadResult;
  records: EncodedRecords;
  /** When it was told to start, on its clock (ms); its first record says when it did (a request that came late starts at once). */
  startAtMs: number;
}

/** Temporary folders holding the ControlMaster sockets of the eventbench process whose pid follows. */
export const SSH_DIR_PREFIX = 'eventbench-ssh-';
