// The one way eventbench starts and stops a program of its own (a server under test, the load client): in a
// process group of its own (a Ctrl-C at the terminal reaches the runner only, which then stops its children in
// order, and a group signal reaches everything the program forks), its output kept for error messages.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface Child {
  proc: ChildProcess;
  /** Its pid, also its process group id; -1 when it could not be started. */
  pid: number;
  /** Settles once it has exited (or could not be started: code and signal null, the reason in stderrTail). */
  exited: Promise<Exit>;
  hasExited(): boolean;
  /** Everything it printed on stdout (kept whole only with `keepStdout`; else the last 4 KiB). */
  stdout(): string;
  /** Its last three lines of stderr, joined with ' | '. */
  stderrTail(): string;
  /** The last 4 KiB it printed on stdout and stderr together. */
  output(): string;
}

export function startChild(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; keepStdout?: boolean } = {}): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env });
  let out = '';
  let err = '';
  let tail = '';
  let done = false;
  const keep = (d: string) => { tail = (tail + d).slice(-4096); };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out = options.keepStdout ? out + d : (out + d).slice(-4096); keep(d); });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-2000); keep(d); });
  const exited = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => { done = true; resolve({ code, signal }); });
    proc.on('error', (e) => { err += e.message; keep(`${e.message}\n`); done = true; resolve({ code: null, signal: null }); });
  });
  return {
    proc, pid: proc.pid ?? -1, exited, hasExited: () => done,
    stdout: () => out, stderrTail: () => err.trim().split('\n').slice(-3).join(' | '), output: () => tail,
  };
}

/** SIGTERM to the child itself, SIGKILL after `graceMs`; resolves when it is gone. */
export async function stopChild(child: Child, graceMs: number): Promise<void> {
  if (child.hasExited() || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const t = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(t);
}
