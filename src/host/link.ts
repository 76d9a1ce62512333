// The runner's side of an agent (src/host/agent.ts): `local`, the agent as a child process of this one, or
// `ssh://[user@]host[:port]`, the agent started over the system's ssh (./ssh.ts: the host string checked field by
// field, `--` before the destination): BatchMode (never a prompt), a ConnectTimeout, the user's own keys and
// known_hosts, and ControlMaster with a ControlPath in a private folder, so that each host pays for one connection
// however many sessions a run opens there (and the master is closed when the run ends). For the hosts of
// `eventbench hosts up` it passes their ssh config with -F and starts this checkout's eventbench (same filesystem);
// elsewhere `eventbench` on the remote PATH, or --remote-eventbench. Every answer is checked against its shape
// (./protocol.ts) before it is used, and every request has a deadline derived from what it asks: a garbled answer or
// a missed deadline ends the link (the agent and what it started are stopped) and fails every request on it with one
// HostError line naming the host and the cause, as do ssh that could not connect, no eventbench there, another
// version, or the agent or its ssh gone mid-request. Once the run is interrupted (`signal`), every answer is due
// within `abortGraceMs`, so that a stuck agent cannot hold an interrupted run.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { estimateOffset, type ClockOffset, type ClockProbe } from '../core/clock-offset.js';
import { startChild, stopChild, type Child, type Exit } from '../core/child.js';
import { eventbenchVersion } from '../core/environment.js';
import { HostError } from '../core/errors.js';
import { killTree } from '../core/proc.js';
import { shown } from '../core/shape.js';
import { EVENTBENCH_BIN } from './local.js';
import {
  AGENT_PROTOCOL,
  HELLO_SHAPE,
  SSH_DIR_PREFIX,
  answerProblem,
  answerWithinMs,
  type AgentAnswer,
  type ClockReading,
  type Hello,
} from './protocol.js';
import { sshConfigFor } from './namespaces.js';
import { shellQuote, sshArgv, sshOptions, sshTry, type HostSpec, type SshHost } from './ssh.js';

export { parseHostSpec, sshOptions, type HostSpec } from './ssh.js';

export const LINK_DEFAULTS = {
  /** ssh's ConnectTimeout, seconds: an unreachable host is reported within it. */
  connectTimeoutS: 10,
  /** How long an agent may take to answer hello once connected (node starting on a slow host), seconds. */
  helloTimeoutS: 60,
  /** Clock probes per agent; the one with the shortest round trip gives the offset. */
  clockProbes: 8,
  /** Once interrupted, every answer is due within this, ms (`run`: Ctrl-C ends it within 10 s, a stuck agent or not). */
  abortGraceMs: 5000,
} as const;

export interface LinkOptions {
  /** How eventbench is started on the far side, as a shell command line (`agent` is appended). */
  remoteCommand?: string;
  connectTimeoutS?: number;
  /** The interruption of the work the links serve: from then on every answer is due within `abortGraceMs`. */
  signal?: AbortSignal;
  abortGraceMs?: number;
}

/** The command line that starts eventbench on that host: given, this checkout's for local and namespace hosts, else `eventbench`. */
export function remoteCommandFor(spec: HostSpec, o: LinkOptions = {}): string {
  if (o.remoteCommand) return o.remoteCommand;
  const here = `${shellQuote(process.execPath)} ${shellQuote(EVENTBENCH_BIN)}`;
  return spec.kind === 'local' || sshConfigFor(spec.host) ? here : 'eventbench';
}

interface Pending {
  cmd: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  /** Its deadline, ms from when it was sent (or from the interruption, when `hurried`), and the instant it falls. */
  withinMs: number;
  dueAt: number;
  hurried?: true;
}

/** One agent, reached over its link. Open with AgentLinks.open; every method rejects with a HostError. */
export class AgentLink {
  hello: Hello | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private partial: string[] = [];
  private exit: Exit | undefined;
  /** Why the link was ended on purpose (a missed deadline, a garbled answer): every request on it fails with this. */
  private fault: HostError | undefined;
  /** Set once the work was interrupted: every answer is due within this, ms. */
  private hurriedMs: number | undefined;
  /** Whether a well-formed answer came: before it, what is not an answer (a login script's output) is skipped. */
  private answered = false;

  /** `farKill`: kills the agent on its host by pid, when the link to it is cut (ssh; a local agent is killed here). */
  constructor(
    readonly spec: HostSpec,
    readonly command: string,
    readonly child: Child,
    private readonly farKill: (pid: number) => void = () => {},
  ) {
    child.proc.stdout!.on('data', (d: string) => this.read(d));
    child.proc.stdin!.on('error', () => {
      /* the agent went away; its exit says how */
    });
    void child.exited.then((exit) => {
      this.exit = exit;
      for (const [id, p] of this.pending) {
        this.settle(id);
        p.reject(this.fault ?? this.gone(p.cmd));
      }
    });
  }

  get host(): string {
    return this.spec.text;
  }

  /** Whether its agent (or its ssh) still runs and answers: a dead or ended link fails every call at once. */
  get alive(): boolean {
    return this.exit === undefined && this.fault === undefined;
  }

  /** Splits its output into lines; a load's answer is one line of megabytes, so its pieces are joined once, at its end. */
  private read(data: string): void {
    let from = 0;
    for (let nl = data.indexOf('\n'); nl >= 0; nl = data.indexOf('\n', from)) {
      this.partial.push(data.slice(from, nl));
      const line = this.partial.join('');
      this.partial = [];
      this.answer(line);
      from = nl + 1;
    }
    if (from < data.length) this.partial.push(data.slice(from));
  }

  private answer(line: string): void {
    if (this.fault) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      // A login script may print to stdout before the agent starts; once it has answered, every line is an answer.
      if (this.answered) this.breach(`a line that is not JSON: ${shown(line)}`);
      return;
    }
    const problem = answerProblem(raw, (id) => this.pending.get(id)?.cmd);
    if (problem) {
      if (this.answered || problem.startsWith('the answer to ')) this.breach(problem);
      return;
    }
    this.answered = true;
    const a = raw as AgentAnswer;
    const p = this.settle(a.id)!;
    if (a.ok) p.resolve(a.result);
    else p.reject(new HostError(this.host, `${a.error.message} (the agent, answering ${p.cmd})`));
  }

  /** Takes a request off the pending ones, its deadline cleared. */
  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p) clearTimeout(p.timer);
    this.pending.delete(id);
    return p;
  }

  /** An answer that breaks the protocol: the agent cannot be trusted with anything more. */
  private breach(problem: string): void {
    const ours = eventbenchVersion();
    const why = `its agent broke the protocol: ${problem}; stopped it. Is \`${this.command}\` eventbench ${ours}? Check that host`;
    this.end(new HostError(this.host, why, 'garbled'));
  }

  /** A request past its deadline: the agent is stuck (a stopped process, a host swapping, a half-open link). */
  private late(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    const s = (p.withinMs / 1000).toFixed(p.withinMs < 10_000 ? 1 : 0);
    const when = p.hurried ? `${s} s after the run was interrupted` : `${s} s`;
    const why = `no answer to ${p.cmd} within ${when} (the agent is stuck, its host overloaded, or the link half-open); stopped the agent and what it ran`;
    this.end(new HostError(this.host, why, 'deadline'));
  }

  /** Ends the link for `fault`: every request fails with it, and the agent and what it started are stopped. */
  private end(fault: HostError): void {
    if (this.fault || this.exit) return;
    this.fault = fault;
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(fault);
    }
    if (this.spec.kind === 'local') {
      // Its servers are its children (in process groups of their own): the whole tree goes.
      if (this.child.pid > 0) killTree(this.child.pid, 'SIGKILL', process.pid);
    } else {
      this.child.proc.kill('SIGKILL');
      if (this.hello) this.farKill(this.hello.pid);
    }
  }

  /** From now on every answer is due within `withinMs` (the work was interrupted): a stuck agent holds nothing up. */
  hurry(withinMs: number): void {
    this.hurriedMs = withinMs;
    const dueAt = performance.now() + withinMs;
    for (const [id, p] of this.pending) {
      if (p.dueAt <= dueAt) continue;
      clearTimeout(p.timer);
      Object.assign(p, { timer: setTimeout(() => this.late(id), withinMs), withinMs, dueAt, hurried: true });
    }
  }

  /** Sends one request; resolves with its answer's result, due within `withinMs` (by default, from what it asks). */
  request<T>(cmd: string, fields: Record<string, unknown> = {}, withinMs?: number): Promise<T> {
    return this.start<T>(cmd, fields, withinMs).answer;
  }

  /** Sends one request and returns its id (for a later `cancel`) with the promise of its answer. */
  start<T>(cmd: string, fields: Record<string, unknown> = {}, withinMs = answerWithinMs(cmd, fields)): { id: number; answer: Promise<T> } {
    const id = this.nextId++;
    if (this.fault) return { id, answer: Promise.reject(this.fault) };
    if (this.exit) return { id, answer: Promise.reject(this.gone(cmd)) };
    const answer = new Promise<T>((resolve, reject) => {
      const ms = Math.min(withinMs, this.hurriedMs ?? Infinity);
      const timer = setTimeout(() => this.late(id), ms);
      const hurried = this.hurriedMs !== undefined && this.hurriedMs <= withinMs ? { hurried: true as const } : {};
      this.pending.set(id, {
        cmd,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        withinMs: ms,
        dueAt: performance.now() + ms,
        ...hurried,
      });
      this.child.proc.stdin!.write(JSON.stringify({ ...fields, id, cmd }) + '\n');
    });
    return { id, answer };
  }

  /** How it ended, in words, with what it said last. */
  private how(): string {
    const e = this.exit;
    const who = this.spec.kind === 'ssh' ? 'ssh' : 'the agent';
    const how = !e
      ? `${who} is running`
      : e.signal
        ? `${who} was killed (${e.signal})`
        : e.code === null
          ? `${who} could not be started`
          : `${who} exited with code ${e.code}`;
    const said = this.child.stderrTail();
    return said ? `${how}: ${said}` : how;
  }

  private gone(cmd: string): HostError {
    return new HostError(this.host, `the agent stopped before answering ${cmd}: ${this.how()}; check that host and run again`, 'lost');
  }

  /** Why it ended before its hello, as the line the user needs. */
  notStarted(): HostError {
    const ours = eventbenchVersion();
    const e = this.exit;
    if (this.spec.kind === 'ssh' && e?.code === 255) {
      return new HostError(
        this.host,
        `ssh could not connect or log in (${this.child.stderrTail() || 'no message'}); ` +
          `check the address, that sshd runs there and that it accepts your key: ${sshTry(this.spec)}`,
        'unreachable',
      );
    }
    if (e?.code === 127) {
      return new HostError(
        this.host,
        `no eventbench there: \`${this.command}\` was not found (${this.child.stderrTail() || 'exit 127'}); ` +
          `install eventbench ${ours} there (npm install -g eventbench@${ours}) or say how to start it with --remote-eventbench, ` +
          "e.g. --remote-eventbench 'node /opt/eventbench/bin/eventbench.js'",
        'unreachable',
      );
    }
    if (e?.signal) return this.gone('hello');
    return new HostError(
      this.host,
      `\`${this.command} agent\` ended before answering (${this.how()}); ` +
        `is eventbench there older than ${ours}? install ${ours} there (npm install -g eventbench@${ours})`,
      'unreachable',
    );
  }

  /** Waits for its hello (within `timeoutS`) and checks its version against ours, then the rest of its shape. */
  async greet(timeoutS: number): Promise<Hello> {
    try {
      this.hello = await this.request<Hello>('hello', {}, timeoutS * 1000);
    } catch (err) {
      if (this.fault || !this.exit) throw err;
      await this.child.exited;
      throw this.notStarted();
    }
    const ours = eventbenchVersion();
    if (this.hello.eventbenchVersion !== ours || this.hello.protocol !== AGENT_PROTOCOL) {
      throw new HostError(
        this.host,
        `runs eventbench ${this.hello.eventbenchVersion}, and this is eventbench ${ours}: ` +
          `install ${ours} there (npm install -g eventbench@${ours}), ` +
          `or point --remote-eventbench at a copy of ${ours} (it ran \`${this.command}\`)`,
        'unreachable',
      );
    }
    const problem = HELLO_SHAPE.problem(this.hello, 'the answer to hello.result');
    if (problem) {
      this.hello = undefined;
      this.breach(problem);
      throw this.fault;
    }
    return this.hello;
  }

  /** Its clock's offset from ours (performance.now() of both), from round trips over the link. */
  async clock(probes: number = LINK_DEFAULTS.clockProbes): Promise<ClockOffset> {
    const seen: ClockProbe[] = [];
    for (let i = 0; i < probes; i++) {
      const sentMs = performance.now();
      const r = await this.request<ClockReading>('clock');
      seen.push({ sentMs, theirMs: r.monoMs, receivedMs: performance.now() });
    }
    return estimateOffset(seen);
  }

  /** Closes its input (it then stops what it started and exits); ends it by signal if it has not within `graceMs`. */
  async close(graceMs = 8000): Promise<void> {
    if (!this.exit) this.child.proc.stdin!.end();
    const t = setTimeout(() => void stopChild(this.child, 2000), graceMs);
    await this.child.exited;
    clearTimeout(t);
  }
}

/**
 * The links of one eventbench process: it opens them (in parallel), and closes them all at the end with their ssh
 * master connections and the folder of their sockets.
 */
export class AgentLinks {
  readonly links: AgentLink[] = [];
  private controlDir: string | undefined;
  private readonly masters = new Map<string, string[]>();
  /** The ssh commands under way that kill a cut-off agent on its host: closeAll waits for them. */
  private readonly killing = new Set<Promise<void>>();

  constructor(private readonly o: LinkOptions = {}) {
    o.signal?.addEventListener('abort', () => this.hurry(), { once: true });
  }

  private hurry(): void {
    for (const l of this.links) l.hurry(this.o.abortGraceMs ?? LINK_DEFAULTS.abortGraceMs);
  }

  private sshFor(spec: SshHost): string[] {
    this.controlDir ??= mkdtempSync(path.join(os.tmpdir(), `${SSH_DIR_PREFIX}${process.pid}-`));
    const options = sshOptions(spec, this.controlDir, this.o.connectTimeoutS ?? LINK_DEFAULTS.connectTimeoutS);
    this.masters.set(`${spec.user ?? ''}@${spec.host}:${spec.port ?? ''}`, sshArgv(spec, [...options, '-O', 'exit'], []));
    return options;
  }

  private argv(spec: HostSpec, command: string): string[] {
    if (spec.kind === 'local') return ['/bin/sh', '-c', `exec ${command} agent`];
    return ['ssh', ...sshArgv(spec, this.sshFor(spec), [`${command} agent`])];
  }

  /** Kills a cut-off agent by pid on its ssh host (best effort: the link may be the thing that is broken). */
  private farKill(spec: HostSpec, pid: number): void {
    if (spec.kind !== 'ssh') return;
    const argv = sshArgv(spec, this.sshFor(spec), ['kill', '-KILL', String(pid)]);
    const done = new Promise<void>((resolve) => execFile('ssh', argv, { timeout: 10_000 }, () => resolve()));
    this.killing.add(done);
    void done.then(() => this.killing.delete(done));
  }

  /** Starts every agent and waits for each one's hello; the first fault is thrown (closeAll still runs after it). */
  async open(specs: HostSpec[]): Promise<AgentLink[]> {
    const opened = specs.map((spec) => {
      const command = remoteCommandFor(spec, this.o);
      const argv = this.argv(spec, command);
      const child = startChild(argv[0]!, argv.slice(1), { stdin: 'pipe' });
      const link = new AgentLink(spec, command, child, (pid) => this.farKill(spec, pid));
      this.links.push(link);
      return link;
    });
    if (this.o.signal?.aborted) this.hurry();
    const timeoutS = (this.o.connectTimeoutS ?? LINK_DEFAULTS.connectTimeoutS) + LINK_DEFAULTS.helloTimeoutS;
    const greeted = await Promise.allSettled(opened.map((l) => l.greet(timeoutS)));
    const failed = greeted.find((g): g is PromiseRejectedResult => g.status === 'rejected');
    if (failed) throw failed.reason;
    return opened;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
    await Promise.all([...this.killing]);
    await Promise.all(
      [...this.masters.values()].map(
        (args) =>
          new Promise<void>((resolve) => {
            execFile('ssh', args, { timeout: 5000 }, () => resolve());
          }),
      ),
    );
    this.masters.clear();
    if (this.controlDir) rmSync(this.controlDir, { recursive: true, force: true });
    this.controlDir = undefined;
  }
}
