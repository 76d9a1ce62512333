// `processes`: a process per connection, the paper's fork server.
//
// One thread waits in accept(2) (kernel/acceptor.ts); for each accepted connection the main thread starts a NEW
// child process (kernel/child.ts) whose standard input is the connection, and closes its own copy. The child
// reads the request and writes the response with blocking read(2)/write(2) on descriptor 0 (kernel/connection.ts),
// closes it and exits.
// What it costs: Node offers no bare fork(2) (forking a process that runs V8's threads is unsafe), so each
// connection costs a fork+exec of a fresh Node (libuv's spawn) and that Node's whole start-up, tens of
// milliseconds and tens of MB: far dearer than the paper's fork of a small C process. Live children are capped
// (by default from available memory); at the cap the acceptor stops accepting and connections wait in the kernel.
// A child blocked on a silent client ends by itself after the idle timeout even if this server is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunningServer, ServeOptions, ServerModel } from './types.js';
import { libc } from '../core/libc.js';
import { listenShared, defaultMaxLive } from './kernel/listener.js';
import { startAcceptor } from './kernel/acceptor.js';
import { threads } from './threads.js';
import { KERNEL_THREAD_RUNTIMES } from './runtime.js';

const CHILD = fileURLToPath(new URL('./kernel/child.js', import.meta.url));
/** Resident memory of one child Node, measured on Node 20: the default cap's unit. */
export const PROCESS_BYTES = 40 * 2 ** 20;

/**
 * The connection on `fd` gets a process of its own, remembered in `children` until it exits; `done` frees its
 * place under the cap once it has ended, or at once if it could not start.
 */
function serveInChild(fd: number, pageBytes: number, children: Map<ChildProcess, Promise<void>>, done: () => void): void {
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [CHILD, String(pageBytes)], { stdio: [fd, 'ignore', 'inherit'] });
  } catch {
    done(); // could not start a process: only this connection is lost
    return;
  } finally {
    libc().close(fd); // the child has its own copy (or there is no child)
  }
  children.set(
    child,
    new Promise((resolve) => {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        children.delete(child);
        done();
        resolve();
      };
      child.once('exit', end);
      child.once('error', end); // spawn failed: there will be no exit
    }),
  );
}

export const processes: ServerModel = {
  name: 'processes',
  family: 'typescript',
  runtimes: KERNEL_THREAD_RUNTIMES,
  paperRow: 'fork',
  connection: 'process',
  slow: true,
  summary: 'a new child process per connection, doing blocking reads and writes on its standard input',
  available: () => threads.available(),

  async start(options: ServeOptions): Promise<RunningServer> {
    const listener = await listenShared(options);
    const cap =
      options.maxLive === undefined
        ? defaultMaxLive(PROCESS_BYTES, 'processes')
        : { maxLive: options.maxLive, note: `at most ${options.maxLive} live processes` };
    const children = new Map<ChildProcess, Promise<void>>();

    // One spawn per turn of the event loop. A spawn blocks this thread until its child has exec'd, which under the
    // run's CPU quota, shared with every child still starting, takes a while: spawning a whole flood of accepted
    // connections in one turn kept a SIGTERM waiting past the runner's grace (32 children left behind).
    const waiting: number[] = [];
    let closing = false;
    const drop = (fd: number) => {
      libc().close(fd);
      acceptor.done();
    };
    const spawnNext = () => {
      const fd = waiting.shift();
      if (fd === undefined) return;
      if (waiting.length > 0) setImmediate(spawnNext);
      if (closing) drop(fd);
      else serveInChild(fd, options.pageBytes, children, () => acceptor.done());
    };
    const acceptor = startAcceptor(listener.fd, cap.maxLive, options.idleTimeoutMs, (fd) => {
      if (waiting.push(fd) === 1) setImmediate(spawnNext);
    });

    return {
      url: listener.url,
      effectiveBacklog: listener.effectiveBacklog,
      notes: [...listener.notes, cap.note],
      async close() {
        // Children first: under the run's CPU quota this process shares it with every child still starting (a
        // fresh Node each), which would leave it little to stop with. stop() refuses new connections at once;
        // SIGKILL, since a connection's child holds nothing that needs a clean exit.
        closing = true;
        const stopped = acceptor.stop();
        for (const fd of waiting.splice(0)) drop(fd);
        for (const child of children.keys()) child.kill('SIGKILL');
        await stopped;
        libc().close(listener.fd);
        await Promise.all(children.values());
      },
    };
  },
};
