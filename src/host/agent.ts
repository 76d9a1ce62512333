// `eventbench agent` as a library: the far end of a link (src/host/link.ts), reached over SSH or as a local child.
// It reads one JSON request per line, `{"id": 7, "cmd": "server.start", "args": [...]}`, and answers each on one
// line with the same id, `{"id": 7, "ok": true, "result": ...}` or `{"id": 7, "ok": false, "error": {"code",
// "message"}}`; requests run concurrently. It is this host behind the engine's two interfaces (src/host/hosts.ts):
//   server.NAME {args}         a method of ServerHost (start, sample, stop servers under this host's throttle and
//                              pinning), dispatched by name, its arguments and answer plain data
//   client.NAME {args}         a method of ClientHost (warm a server, run `eventbench load` from this host)
//   cancel {of}                aborts request `of` if it waits (server.start, client.warm, client.load, load): it
//                              answers as its method does when its signal aborts
// and a few commands of its own:
//   hello                      versions and where it runs (the runner refuses another eventbench version)
//   clock                      its monotonic clock (performance.now(), the clock of its records) and wall clock
//   load {options, startAtMs}  one closed-loop load or one share of it, started at startAtMs on its clock; answers
//                              with its own result and its per-request records (what an exact merge needs)
//   doctor {maxLoad, throttlePeriodMs}  the checks of `eventbench doctor` on this host
// When its input closes (the ssh session dropped, the runner died), it stops everything it started (shutdown).
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { environment, eventbenchVersion } from '../core/environment.js';
import { EventbenchError, ServerError, UsageError } from '../core/errors.js';
import { runLoadWithRecords } from '../load/index.js';
import { encodeRecords } from '../load/records.js';
import { diagnose, type Check } from './doctor.js';
import { LocalClientHost, LocalServerHost } from './local.js';
import { removeLeftovers } from './leftovers.js';
import {
  AGENT_PROTOCOL,
  CLIENT_CALLS,
  LOAD_FIELDS,
  SERVER_CALLS,
  type AgentAnswer,
  type AgentLoadAnswer,
  type AgentLoadOptions,
  type AgentRequest,
  type ClockReading,
  type Hello,
} from './protocol.js';

/** The calls that wait, and so take the request's cancel signal after their arguments. */
const CANCELLABLE: ReadonlySet<string> = new Set(['server.start', 'client.warm', 'client.load']);
const COMMANDS = [
  'hello',
  'clock',
  'load',
  'cancel',
  'doctor',
  ...SERVER_CALLS.map((c) => `server.${c}`),
  ...CLIENT_CALLS.map((c) => `client.${c}`),
];

export class Agent {
  /** Removed when this agent started: what an agent killed with -9 on this host left (./leftovers.ts). */
  private readonly removed = removeLeftovers();
  /** The requests that wait and can be cancelled, by id. */
  private readonly cancellable = new Map<number, AbortController>();
  private readonly running = new Set<Promise<void>>();
  private readonly server = new LocalServerHost();
  private readonly client = new LocalClientHost();
  private closing = false;

  constructor(private readonly send: (answer: AgentAnswer) => void) {}

  /** One line of input: parsed, run, answered (never throws). */
  handle(line: string): void {
    if (!line.trim()) return;
    let request: AgentRequest;
    try {
      request = JSON.parse(line) as AgentRequest;
      if (!Number.isInteger(request.id) || typeof request.cmd !== 'string') throw new Error('no id or cmd');
    } catch {
      const message = `agent: expected one JSON request per line with an id and a cmd, got ${JSON.stringify(line.slice(0, 80))}`;
      this.send({ id: -1, ok: false, error: { code: 'EB_USAGE', message } });
      return;
    }
    const work = this.dispatch(request).then(
      (result) => this.send({ id: request.id, ok: true, result: result ?? null }),
      (err: unknown) => this.send({ id: request.id, ok: false, error: errorOf(err) }),
    );
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async dispatch(r: AgentRequest): Promise<unknown> {
    if (this.closing) throw new ServerError('agent: shutting down', 'EB_HOST');
    switch (r.cmd) {
      case 'hello':
        return { ...hello(), removed: this.removed } satisfies Hello;
      case 'clock':
        return { monoMs: performance.now(), wallMs: Date.now() } satisfies ClockReading;
      case 'load':
        return this.withCancel(r.id, (signal) => this.load(r.options as AgentLoadOptions, Number(r.startAtMs), signal));
      case 'cancel':
        return { cancelled: this.cancel(Number(r.of)) };
      case 'doctor':
        return this.doctor(r);
      default:
        return this.call(r);
    }
  }

  /** `server.NAME` or `client.NAME`: that method of this host, with the request's args (and its signal if it waits). */
  private call(r: AgentRequest): Promise<unknown> {
    const [side, method] = r.cmd.split('.', 2) as [string, string];
    const host =
      side === 'server' && (SERVER_CALLS as readonly string[]).includes(method)
        ? this.server
        : side === 'client' && (CLIENT_CALLS as readonly string[]).includes(method)
          ? this.client
          : undefined;
    if (!host) throw new UsageError('agent cmd', r.cmd, `expected one of ${COMMANDS.join(', ')}`);
    const args = r.args ?? [];
    if (!Array.isArray(args)) throw new UsageError(`${r.cmd} args`, String(args), "expected a JSON array of the method's arguments");
    const fn = (host as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!;
    if (!CANCELLABLE.has(r.cmd)) return fn.apply(host, args);
    return this.withCancel(r.id, (signal) => fn.apply(host, [...args, signal]));
  }

  /** Runs `work` with a signal that `cancel {of: id}` aborts. */
  private async withCancel<T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.cancellable.set(id, controller);
    try {
      return await work(controller.signal);
    } finally {
      this.cancellable.delete(id);
    }
  }

  private async load(options: AgentLoadOptions, startAtMs: number, signal: AbortSignal): Promise<AgentLoadAnswer> {
    const input = Object.fromEntries(LOAD_FIELDS.filter((k) => options?.[k] !== undefined).map((k) => [k, options[k]])) as AgentLoadOptions;
    const at = Number.isFinite(startAtMs) ? { startAtMs } : {};
    const { result, records } = await runLoadWithRecords({ ...input, ...at, signal });
    return { result, records: encodeRecords(records), startAtMs };
  }

  private cancel(of: number): boolean {
    const c = this.cancellable.get(of);
    c?.abort();
    return c !== undefined;
  }

  private doctor(r: AgentRequest): Promise<Check[]> {
    const maxLoad = r.maxLoad === undefined ? undefined : Number(r.maxLoad);
    const period = r.throttlePeriodMs === undefined ? undefined : Number(r.throttlePeriodMs);
    const share = r.serverCpuShare === undefined || r.serverCpuShare === null ? undefined : Number(r.serverCpuShare);
    return diagnose(maxLoad, undefined, period, share);
  }

  /** Stops every load, server and throttle it started, and restores its affinity: its input closed, nobody is left to ask. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const c of this.cancellable.values()) c.abort();
    await Promise.race([Promise.allSettled([...this.running]), sleep(10_000, undefined, { ref: false })]);
    await this.server.tearDown();
    await this.client.tearDown();
  }
}

function hello(): Omit<Hello, 'removed'> {
  const env = environment();
  const [clientAddress, , serverAddress] = (process.env.SSH_CONNECTION ?? '').split(' ');
  return {
    protocol: AGENT_PROTOCOL,
    eventbenchVersion: eventbenchVersion(),
    nodeVersion: process.version,
    kernel: env.kernel,
    cpuModel: env.cpuModel,
    hostname: os.hostname(),
    pid: process.pid,
    environment: env,
    ...(clientAddress && serverAddress ? { ssh: { clientAddress, serverAddress } } : {}),
  };
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof EventbenchError) return { code: err.code, message: err.message };
  return { code: 'EB_INTERNAL', message: `internal error in the agent: ${(err as Error)?.message ?? String(err)}` };
}
