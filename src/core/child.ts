// The one way eventbench starts and stops a program of its own (a server under test, the load client): in a
// process group of its own (a Ctrl-C at the terminal reaches the runner only, which then stops its children in
// order, and a group signal reaches everything the program forks), its output kept for error messages.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

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

/** The longest an exited child's pipes are drained for (see startChild). */
const STDIO_DRAIN_MS = 500;

/** `stdin: 'pipe'` gives the child an input the caller writes to (proc.stdin): an agent's requests. */
export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  keepStdout?: boolean;
  cwd?: string;
  stdin?: 'pipe';
}

export function startChild(command: string, args: string[], options: ChildOptions = {}): Child {
  const where = options.cwd ? { cwd: options.cwd } : {};
  const proc = spawn(command, args, {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: true,
    env: options.env ?? process.env,
    ...where,
  });
  let out = '';
  let err = '';
  let tail = '';
  let done = false;
  const keep = (d: string) => {
    tail = (tail + d).slice(-4096);
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out = options.keepStdout ? out + d : (out + d).slice(-4096);
    keep(d);
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-2000);
    keep(d);
  });
  // 'exit' can come before the last of its output has been read (a load client's JSON result was lost that way,
  // code 0 and "no output", once in 69 points): once it has exited, its pipes are drained until they end, but
  // never waited on past STDIO_DRAIN_MS, since a child it left behind (a forked server worker) may hold them open.
  const ended = (stream: NodeJS.ReadableStream) =>
    new Promise<void>((r) => {
      stream.once('end', r);
      stream.once('close', r);
    });
  const drained = Promise.all([ended(proc.stdout!), ended(proc.stderr!)]);
  const exited = new Promise<Exit>((resolve) => {
    proc.on('exit', (code, signal) => {
      const t = setTimeout(finish, STDIO_DRAIN_MS);
      void drained.then(finish);
      function finish() {
        clearTimeout(t);
        done = true;
        resolve({ code, signal });
      }
    });
    proc.on('error', (e) => {
      err += e.message;
      keep(`${e.message}\n`);
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  return {
    proc,
    pid: proc.pid ?? -1,
    exited,
    hasExited: () => done,
    stdout: () => out,
    stderrTail: () => err.trim().split('\n').slice(-3).join(' | '),
    output: () => tail,
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
