// `eventbench agent` as a library: the far end of a link (src/host/link.ts), reached over SSH or as a local child.
// It reads one JSON request per line, `{"id": 7, "cmd": "load", ...}`, and answers each on one line with the same
// id, `{"id": 7, "ok": true, "result": ...}` or `{"id": 7, "ok": false, "error": {"code", "message"}}`; requests run
// concurrently (a `cancel` reaches a running `load`). Commands:
//   hello                      versions and where it runs (the runner refuses another eventbench version)
//   clock                      its monotonic clock (performance.now(), the clock of its records) and wall clock
//   load {options, startAtMs}  one closed-loop load or one share of it, started at startAtMs on its clock; answers
//                              with its own result and its per-request records (what an exact merge needs)
//   cancel {of}                stops the running load of request `of` (it answers with what it measured)
//   serve {server, ...}        starts a server pinned and throttled on this host (src/sweep/session.ts)
//   sample {session}           that server's CPU and memory now
//   stop {session}             stops it and removes its throttle
// When its input closes (the ssh session dropped, the runner died), it stops everything it started (shutdown).
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { environment, eventbenchVersion, type Environment } from '../core/environment.js';
import { EventbenchError, ServerError, UsageError } from '../core/errors.js';
import { runLoadWithRecords } from '../load/index.js';
import type { LoadInput } from '../load/options.js';
import { encodeRecords, type EncodedRecords } from '../load/records.js';
import type { LoadResult } from '../load/types.js';
import { findModel, serveRuntime } from '../servers/registry.js';
import { RUN_DEFAULTS } from '../sweep/plan.js';
import { LocalServerHost } from './local.js';
import type { HostSetup } from '../sweep/schema.js';

/** Bumped when a command or an answer changes shape; the runner checks it with the eventbench version. */
export const AGENT_PROTOCOL = 1;

export interface AgentRequest { id: number; cmd: string; [field: string]: unknown }
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
}

export interface ClockReading { monoMs: number; wallMs: number }

/** The options of a load an agent accepts (no file, no callback: it runs on another host). */
const LOAD_FIELDS = ['url', 'concurrency', 'requests', 'durationS', 'timeoutS', 'trim', 'keepalive',
  'workers', 'method', 'transport'] as const;
export type AgentLoadOptions = Pick<LoadInput, (typeof LOAD_FIELDS)[number]>;

export interface AgentLoadAnswer {
  result: LoadResult;
  records: EncodedRecords;
  /** When it was told to start, on its clock (ms); its first record says when it did (a request that came late starts at once). */
  startAtMs: number;
}

export interface ServeRequest {
  /** A model of `eventbench serve --list` (MODEL@runtime allowed). */
  server: string;
  /** The address it listens on: loopback by default; the host's own address for clients on other hosts. */
  bindHost?: string;
  backlog?: number;
  pageBytes?: number;
  serverCpus?: string;
  /** Cores of the cgroup quota (0: unthrottled) and its period, ms. */
  cpuShare?: number;
  throttlePeriodMs?: number;
  /** Pin with taskset (when it exists here); default true. */
  pin?: boolean;
}

export interface ServeAnswer {
  session: number;
  url: string;
  pid: number;
  backlog: { requested: number; effective: number };
  throttle: HostSetup['throttle'];
  pinned: boolean;
}

export interface SampleAnswer {
  /** Its tree's memory now (PSS or RSS, src/host/sampling.ts), its processes and threads. */
  memoryBytes: number;
  processes: number;
  threads: number;
  /** Why it is no longer running, when it is not. */
  exited?: string;
}

export class Agent {
  private readonly loads = new Map<number, AbortController>();
  private readonly servers = new Map<number, { host: LocalServerHost; id: string }>();
  private readonly running = new Set<Promise<void>>();
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
      (result) => this.send({ id: request.id, ok: true, result }),
      (err: unknown) => this.send({ id: request.id, ok: false, error: errorOf(err) }),
    );
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async dispatch(r: AgentRequest): Promise<unknown> {
    if (this.closing) throw new ServerError('agent: shutting down', 'EB_HOST');
    switch (r.cmd) {
      case 'hello': return hello();
      case 'clock': return { monoMs: performance.now(), wallMs: Date.now() } satisfies ClockReading;
      case 'load': return this.load(r.id, r.options as AgentLoadOptions, Number(r.startAtMs));
      case 'cancel': return { cancelled: this.cancel(Number(r.of)) };
      case 'serve': return this.serve(r.id, r as unknown as ServeRequest);
      case 'sample': return this.sample(Number(r.session));
      case 'stop': return this.stop(Number(r.session));
      default: throw new UsageError('agent cmd', r.cmd, 'expected hello, clock, load, cancel, serve, sample or stop');
    }
  }

  private async load(id: number, options: AgentLoadOptions, startAtMs: number): Promise<AgentLoadAnswer> {
    const input = Object.fromEntries(LOAD_FIELDS.filter((k) => options?.[k] !== undefined).map((k) => [k, options[k]])) as AgentLoadOptions;
    const controller = new AbortController();
    this.loads.set(id, controller);
    try {
      const at = Number.isFinite(startAtMs) ? { startAtMs } : {};
      const { result, records } = await runLoadWithRecords({ ...input, ...at, signal: controller.signal });
      return { result, records: encodeRecords(records), startAtMs };
    } finally {
      this.loads.delete(id);
    }
  }

  private cancel(of: number): boolean {
    const c = this.loads.get(of);
    c?.abort();
    return c !== undefined;
  }

  private async serve(id: number, r: ServeRequest): Promise<ServeAnswer> {
    const model = findModel(serveRuntime(String(r.server)).model);
    if (!model) throw new UsageError('server', r.server, 'is not a model here', 'see `eventbench serve --list` on that host');
    const host = new LocalServerHost();
    const setUp = await host.setUp({
      ...(r.pin !== false ? { cpus: r.serverCpus ?? RUN_DEFAULTS.serverCpus } : {}),
      cpuShare: r.cpuShare ?? RUN_DEFAULTS.serverCpuShare, periodMs: r.throttlePeriodMs ?? RUN_DEFAULTS.throttlePeriodMs,
    });
    const backlog = r.backlog ?? RUN_DEFAULTS.backlog;
    const serveFlags = ['--port', '0', '--backlog', String(backlog), '--page-bytes', String(r.pageBytes ?? RUN_DEFAULTS.pageBytes),
      ...(r.bindHost ? ['--host', r.bindHost] : [])];
    const started = await host.start({ name: r.server, family: model.family, serveFlags, backlog, readyTimeoutMs: 60_000 });
    if (started === 'aborted' || 'failed' in started) {
      await host.tearDown();
      throw new ServerError(`${r.server} did not start: ${started === 'aborted' ? 'aborted' : started.failed}`);
    }
    this.servers.set(id, { host, id: started.id });
    return {
      session: id, url: started.url, pid: host.rootPid(started.id), backlog: started.backlog,
      throttle: setUp.host.throttle, pinned: setUp.host.pinned,
    };
  }

  private server(id: number) {
    const s = this.servers.get(id);
    if (!s) throw new UsageError('session', id, 'is no server of this agent', 'use the session number `serve` answered');
    return s;
  }

  private async sample(id: number): Promise<SampleAnswer> {
    const { host, id: server } = this.server(id);
    const { memoryBytes, processes, threads } = await host.memory(server);
    const exited = await host.exitReason(server);
    return { memoryBytes, processes, threads, ...(exited ? { exited } : {}) };
  }

  private async stop(id: number): Promise<{ stopped: true }> {
    const { host } = this.server(id);
    this.servers.delete(id);
    await host.tearDown();
    return { stopped: true };
  }

  /** Stops every load and server it started; its input closed, so nobody is left to ask. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const c of this.loads.values()) c.abort();
    await Promise.race([Promise.allSettled([...this.running]), sleep(10_000, undefined, { ref: false })]);
    for (const [id, { host }] of this.servers) {
      this.servers.delete(id);
      await host.tearDown();
    }
  }
}

function hello(): Hello {
  const env = environment();
  return {
    protocol: AGENT_PROTOCOL, eventbenchVersion: eventbenchVersion(), nodeVersion: process.version, kernel: env.kernel,
    cpuModel: env.cpuModel, hostname: os.hostname(), pid: process.pid, environment: env,
  };
}

function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof EventbenchError) return { code: err.code, message: err.message };
  return { code: 'EB_INTERNAL', message: `internal error in the agent: ${(err as Error)?.message ?? String(err)}` };
}
