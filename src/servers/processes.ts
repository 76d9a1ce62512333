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
import { libc } from './kernel/libc.js';
import { listenShared, defaultMaxLive } from './kernel/listener.js';
import { startAcceptor } from './kernel/acceptor.js';
import { threads } from './threads.js';
import { KERNEL_THREAD_RUNTIMES } from './runtime.js';

const CHILD = fileURLToPath(new URL('./kernel/child.js', import.meta.url));
/** Resident memory of one child Node, measured on Node 20: the default cap's unit. */
export const PROCESS_BYTES = 40 * 2 ** 20;

export const processes: ServerModel = {
  name: 'processes',
  family: 'typescript',
  runtimes: KERNEL_THREAD_RUNTIMES,
  paperRow: 'fork',
  // 200 clients at once each wait for a whole new Node (~0.15 s of CPU each): two minutes on a busy 2-core machine.
  conformance: { clientTimeoutMs: 120_000 },
  summary: 'a new child process per connection, doing blocking reads and writes on its standard input',
  available: () => threads.available(),

  async start(options: ServeOptions): Promise<RunningServer> {
    const listener = await listenShared(options);
    const cap = options.maxLive === undefined ? defaultMaxLive(PROCESS_BYTES, 'processes') : { maxLive: options.maxLive, note: `at most ${options.maxLive} live processes` };
    const children = new Map<ChildProcess, Promise<void>>();

    const acceptor = startAcceptor(listener.fd, cap.maxLive, options.idleTimeoutMs, (fd) => {
      let child: ChildProcess;
      try {
        child = spawn(process.execPath, [CHILD, String(options.pageBytes)], { stdio: [fd, 'ignore', 'inherit'] });
      } catch {
        acceptor.done(); // could not start a process: only this connection is lost
        return;
      } finally {
        libc().close(fd); // the child has its own copy (or there is no child)
      }
      children.set(child, new Promise((resolve) => {
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          children.delete(child);
          acceptor.done();
          resolve();
        };
        child.once('exit', end);
        child.once('error', end); // spawn failed: there will be no exit
      }));
    });

    return {
      url: listener.url,
      effectiveBacklog: listener.effectiveBacklog,
      notes: [...listener.notes, cap.note],
      async close() {
        await acceptor.stop();
        libc().close(listener.fd);
        // SIGKILL: a connection's child holds nothing that needs a clean exit, and nothing in it can delay this.
        for (const child of children.keys()) child.kill('SIGKILL');
        await Promise.all(children.values());
      },
    };
  },
};
