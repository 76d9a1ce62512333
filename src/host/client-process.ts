// The load client of a run, as one resident process: `eventbench load --lines`, pinned to the client's cores, told
// one load a line and answering one JSON line each (src/cli/commands/load.ts). A process per point cost each point
// its start-up (0.2 s of a 0.4 s point on a 2-core VM) and a client whose code V8 had not compiled yet; one process
// for the whole run pays that once. A load that outlives its limit, or a process that dies, costs that point only:
// the process is killed and the next load starts another.
import { createInterface } from 'node:readline';
import { startChild, stopChild, type Child } from '../core/child.js';
import type { LoadResult } from '../load/types.js';

/** What a load came to: its result, why there is none, or that it was aborted. */
export type LoadOutcome = { result?: LoadResult; error?: string; aborted?: true };

/** How long a stopped client may take to exit before it is killed, ms. */
const STOP_GRACE_MS = 2000;

export class ResidentClient {
  private child: Child | undefined;
  private waiting: ((line: string | undefined) => void) | undefined;
  /** Whether the load under way was cut off at its limit. */
  private cutOff = false;

  /** `argv` starts the client (`eventbench load --lines`, pinned as the host pins its client). */
  constructor(private readonly argv: readonly string[]) {}

  /** One load: `flags` and `url` as `eventbench load` takes them, stopped after `limitS` or when `signal` aborts. */
  async load(url: string, flags: readonly string[], limitS: number, signal?: AbortSignal): Promise<LoadOutcome> {
    const child = this.start();
    const answer = new Promise<string | undefined>((resolve) => {
      this.waiting = resolve;
    });
    const onAbort = () => child.proc.kill('SIGINT');
    signal?.addEventListener('abort', onAbort, { once: true });
    this.cutOff = false;
    const hung = setTimeout(() => {
      this.cutOff = true;
      void this.stop();
    }, limitS * 1000);
    child.proc.stdin!.write(`${JSON.stringify([...flags, url])}\n`);
    const line = await answer;
    clearTimeout(hung);
    signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) return { aborted: true };
    if (line === undefined) return { error: `the client ended without a result${this.why(child, limitS)}` };
    try {
      const parsed = JSON.parse(line) as { result?: LoadResult; error?: string };
      if (parsed.result && typeof parsed.result.requests === 'number') return { result: parsed.result };
      return { error: parsed.error ?? `the client answered ${line.slice(0, 120)}` };
    } catch {
      return { error: `the client answered ${line.slice(0, 120)}` };
    }
  }

  /** The pid of the client process now, or undefined while none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the process, if any; a load waiting on it gets no result. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.proc.stdin?.end();
    await stopChild(child, STOP_GRACE_MS);
    this.waiting?.(undefined);
  }

  private start(): Child {
    if (this.child && !this.child.hasExited()) return this.child;
    const child = startChild(this.argv[0]!, this.argv.slice(1), { stdin: 'pipe' });
    this.child = child;
    createInterface({ input: child.proc.stdout! }).on('line', (line) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(line);
    });
    void child.exited.then(() => {
      if (this.child === child) this.child = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(undefined);
    });
    return child;
  }

  private why(child: Child, limitS: number): string {
    return `${this.cutOff ? ` within ${limitS} s` : ''}: ${child.stderrTail() || 'no output'}`;
  }
}
