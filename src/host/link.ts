// The runner's side of an agent (src/host/agent.ts): `local`, the agent as a child process of this one, or
// `ssh://[user@]host[:port]`, the agent started over the system's ssh: BatchMode (never a prompt), a ConnectTimeout,
// the user's own keys and known_hosts, and ControlMaster with a ControlPath in a private folder, so that each host
// pays for one connection however many sessions a run opens there (and the master is closed when the run ends).
// For the hosts of `eventbench hosts up` it passes their ssh config with -F and starts this checkout's eventbench
// (same filesystem); elsewhere `eventbench` on the remote PATH, or --remote-eventbench. Every fault becomes one
// HostError line naming the host and what to do: ssh could not connect, no eventbench there, another version, the
// agent or its ssh gone mid-request.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { estimateOffset, type ClockOffset, type ClockProbe } from '../core/clock-offset.js';
import { startChild, stopChild, type Child, type Exit } from '../core/child.js';
import { eventbenchVersion } from '../core/environment.js';
import { HostError, UsageError } from '../core/errors.js';
import { EVENTBENCH_BIN } from './local.js';
import { AGENT_PROTOCOL, SSH_DIR_PREFIX, type AgentAnswer, type ClockReading, type Hello } from './protocol.js';
import { sshConfigFor } from './namespaces.js';

export type HostSpec = { kind: 'local'; text: 'local' } | { kind: 'ssh'; text: string; user?: string; host: string; port?: number };

export const LINK_DEFAULTS = {
  /** ssh's ConnectTimeout, seconds: an unreachable host is reported within it. */
  connectTimeoutS: 10,
  /** How long an agent may take to answer hello once connected (node starting on a slow host), seconds. */
  helloTimeoutS: 60,
  /** A master connection outlives its last session by this long, seconds (a killed runner's lingers no longer). */
  controlPersistS: 30,
  /** Clock probes per agent; the one with the shortest round trip gives the offset. */
  clockProbes: 8,
} as const;

/** `local` or `ssh://[user@]host[:port]`, checked; `field` names the flag that gave it. */
export function parseHostSpec(text: string, field = '--agents'): HostSpec {
  if (text === 'local') return { kind: 'local', text };
  const bad = () =>
    new UsageError(field, text, 'expected local or ssh://[user@]host[:port]', 'e.g. ssh://bench@192.168.1.20 or ssh://10.208.0.11');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad();
  }
  const bare = (url.pathname === '' || url.pathname === '/') && !url.search && !url.hash && !url.password;
  if (url.protocol !== 'ssh:' || !url.hostname || !bare) throw bad();
  return {
    kind: 'ssh',
    text,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    ...(url.port ? { port: Number(url.port) } : {}),
  };
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

export interface LinkOptions {
  /** How eventbench is started on the far side, as a shell command line (`agent` is appended). */
  remoteCommand?: string;
  connectTimeoutS?: number;
}

/** The command line that starts eventbench on that host: given, this checkout's for local and namespace hosts, else `eventbench`. */
export function remoteCommandFor(spec: HostSpec, o: LinkOptions = {}): string {
  if (o.remoteCommand) return o.remoteCommand;
  const here = `${quote(process.execPath)} ${quote(EVENTBENCH_BIN)}`;
  return spec.kind === 'local' || sshConfigFor(spec.host) ? here : 'eventbench';
}

/** ssh's own options for a host: batch mode, a connect timeout, one shared master connection, the namespace config. */
export function sshOptions(spec: Extract<HostSpec, { kind: 'ssh' }>, controlDir: string, connectTimeoutS: number): string[] {
  const config = sshConfigFor(spec.host);
  return [
    ...(config ? ['-F', config] : []),
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${connectTimeoutS}`,
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${path.join(controlDir, '%C')}`,
    '-o',
    `ControlPersist=${LINK_DEFAULTS.controlPersistS}`,
    // A path that dies silently mid-load is noticed within 15 s.
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    ...(spec.port ? ['-p', String(spec.port)] : []),
    ...(spec.user ? ['-l', spec.user] : []),
  ];
}

/** The ssh command a user can try by hand to reach that host as eventbench does. */
function sshTry(spec: Extract<HostSpec, { kind: 'ssh' }>): string {
  const config = sshConfigFor(spec.host);
  return `ssh ${config ? `-F ${config} ` : ''}${spec.port ? `-p ${spec.port} ` : ''}${spec.user ? `${spec.user}@` : ''}${spec.host} true`;
}

interface Pending {
  cmd: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** One agent, reached over its link. Open with AgentLinks.open; every method rejects with a HostError. */
export class AgentLink {
  hello: Hello | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private partial: string[] = [];
  private exit: Exit | undefined;

  constructor(
    readonly spec: HostSpec,
    readonly command: string,
    readonly child: Child,
  ) {
    child.proc.stdout!.on('data', (d: string) => this.read(d));
    child.proc.stdin!.on('error', () => {
      /* the agent went away; its exit says how */
    });
    void child.exited.then((exit) => {
      this.exit = exit;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(this.gone(p.cmd));
      }
    });
  }

  get host(): string {
    return this.spec.text;
  }

  /** Whether its agent (or its ssh) still runs: a dead link fails every call at once. */
  get alive(): boolean {
    return this.exit === undefined;
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
    // A login script may print to stdout before the agent starts: anything not an answer is skipped.
    if (!line.startsWith('{')) return;
    let answer: AgentAnswer;
    try {
      answer = JSON.parse(line) as AgentAnswer;
    } catch {
      return;
    }
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    if (answer.ok) p.resolve(answer.result);
    else p.reject(new HostError(this.host, `${answer.error.message} (the agent, answering ${p.cmd})`));
  }

  /** Sends one request; resolves with its answer's result. */
  request<T>(cmd: string, fields: Record<string, unknown> = {}): Promise<T> {
    return this.start<T>(cmd, fields).answer;
  }

  /** Sends one request and returns its id (for a later `cancel`) with the promise of its answer. */
  start<T>(cmd: string, fields: Record<string, unknown> = {}): { id: number; answer: Promise<T> } {
    const id = this.nextId++;
    if (this.exit) return { id, answer: Promise.reject(this.gone(cmd)) };
    const answer = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { cmd, resolve: resolve as (v: unknown) => void, reject });
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
    return new HostError(this.host, `the agent stopped before answering ${cmd}: ${this.how()}; check that host and run again`);
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
      );
    }
    if (e?.code === 127) {
      return new HostError(
        this.host,
        `no eventbench there: \`${this.command}\` was not found (${this.child.stderrTail() || 'exit 127'}); ` +
          `install eventbench ${ours} there (npm install -g eventbench@${ours}) or say how to start it with --remote-eventbench, ` +
          "e.g. --remote-eventbench 'node /opt/eventbench/bin/eventbench.js'",
      );
    }
    if (e?.signal) return this.gone('hello');
    return new HostError(
      this.host,
      `\`${this.command} agent\` ended before answering (${this.how()}); ` +
        `is eventbench there older than ${ours}? install ${ours} there (npm install -g eventbench@${ours})`,
    );
  }

  /** Waits for its hello and checks its version against ours. */
  async greet(timeoutS: number): Promise<Hello> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      const said = `no answer from \`${this.command} agent\` within ${timeoutS} s; check that host's load and that eventbench starts there`;
      timer = setTimeout(() => reject(new HostError(this.host, said)), timeoutS * 1000);
    });
    try {
      this.hello = await Promise.race([this.request<Hello>('hello'), late]);
    } catch (err) {
      if (!this.exit) throw err;
      await this.child.exited;
      throw this.notStarted();
    } finally {
      clearTimeout(timer);
    }
    const ours = eventbenchVersion();
    if (this.hello.eventbenchVersion !== ours || this.hello.protocol !== AGENT_PROTOCOL) {
      throw new HostError(
        this.host,
        `runs eventbench ${this.hello.eventbenchVersion}, and this is eventbench ${ours}: ` +
          `install ${ours} there (npm install -g eventbench@${ours}), ` +
          `or point --remote-eventbench at a copy of ${ours} (it ran \`${this.command}\`)`,
      );
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

  constructor(private readonly o: LinkOptions = {}) {}

  private argv(spec: HostSpec, command: string): string[] {
    if (spec.kind === 'local') return ['/bin/sh', '-c', `exec ${command} agent`];
    this.controlDir ??= mkdtempSync(path.join(os.tmpdir(), `${SSH_DIR_PREFIX}${process.pid}-`));
    const options = sshOptions(spec, this.controlDir, this.o.connectTimeoutS ?? LINK_DEFAULTS.connectTimeoutS);
    this.masters.set(`${spec.user ?? ''}@${spec.host}:${spec.port ?? ''}`, [...options, '-O', 'exit', spec.host]);
    return ['ssh', ...options, spec.host, '--', `${command} agent`];
  }

  /** Starts every agent and waits for each one's hello; the first fault is thrown (closeAll still runs after it). */
  async open(specs: HostSpec[]): Promise<AgentLink[]> {
    const opened = specs.map((spec) => {
      const command = remoteCommandFor(spec, this.o);
      const argv = this.argv(spec, command);
      const link = new AgentLink(spec, command, startChild(argv[0]!, argv.slice(1), { stdin: 'pipe' }));
      this.links.push(link);
      return link;
    });
    const timeoutS = (this.o.connectTimeoutS ?? LINK_DEFAULTS.connectTimeoutS) + LINK_DEFAULTS.helloTimeoutS;
    const greeted = await Promise.allSettled(opened.map((l) => l.greet(timeoutS)));
    const failed = greeted.find((g): g is PromiseRejectedResult => g.status === 'rejected');
    if (failed) throw failed.reason;
    return opened;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
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
