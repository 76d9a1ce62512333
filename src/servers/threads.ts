// `threads`: a kernel thread per connection, the paper's NPTL server.
//
// One thread waits in accept(2) (kernel/acceptor.ts); for each accepted connection the main thread starts a NEW
// worker thread (node:worker_threads: a kernel thread with its own V8 isolate) and hands it the descriptor. That
// thread itself reads the request and writes the response with blocking read(2)/write(2) calls on the descriptor
// (kernel/connection.ts), closes the connection, and ends. Nothing is relayed through the main thread.
// What it costs: each thread is a pthread plus a V8 isolate, megabytes each, so the live threads are capped (by
// default from available memory); at the cap the acceptor stops accepting and connections wait in the kernel.
// The pthread_create of the paper is here `new Worker`, which also boots a JavaScript engine: much dearer.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import type { RunningServer, ServeOptions, ServerModel } from './types.js';
import { buildResponses } from './page.js';
import { libc } from '../core/libc.js';
import { listenShared, defaultMaxLive } from './kernel/listener.js';
import { startAcceptor } from './kernel/acceptor.js';
import { closeHeld, newGate, newSlot, passGate, reapHeld, serveConnection, shutGate, wakeHolder } from './kernel/connection.js';
import { KERNEL_THREAD_RUNTIMES } from './runtime.js';

const ROLE = 'eventbench-connection-thread';
/** Resident memory of one connection thread, measured on Node 20 (isolate, heap, stacks): the default cap's unit. */
export const THREAD_BYTES = 12 * 2 ** 20;
/** Small heaps: a connection thread only needs the page and one request head. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2, stackSizeMb: 1 };

interface ConnectionData {
  role: typeof ROLE;
  fd: number;
  slot: Int32Array;
  gate: Int32Array;
  pageBytes: number;
}

export const threads: ServerModel = {
  name: 'threads',
  family: 'typescript',
  runtimes: KERNEL_THREAD_RUNTIMES,
  paperRow: 'NPTL',
  connection: 'thread',
  slow: true,
  summary: 'a new kernel thread (worker thread) per connection, doing blocking reads and writes itself',
  async available() {
    try {
      libc();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: String(error), hint: 'needs Linux and the koffi package (npm ci)' };
    }
  },

  async start(options: ServeOptions): Promise<RunningServer> {
    const listener = await listenShared(options);
    const cap =
      options.maxLive === undefined
        ? defaultMaxLive(THREAD_BYTES, 'threads')
        : { maxLive: options.maxLive, note: `at most ${options.maxLive} live threads` };
    // Each live thread: its slot (to wake it on close), the thread, and the promise of its end.
    const live = new Map<Int32Array, { thread: Worker; gate: Int32Array; ended: Promise<void> }>();

    const acceptor = startAcceptor(listener.fd, cap.maxLive, options.idleTimeoutMs, (fd) => {
      const slot = newSlot(fd);
      const data: ConnectionData = { role: ROLE, fd, slot, gate: newGate(), pageBytes: options.pageBytes };
      let thread: Worker;
      try {
        thread = new Worker(new URL(import.meta.url), { workerData: data, resourceLimits: RESOURCE_LIMITS, trackUnmanagedFds: false });
      } catch {
        reapHeld(slot); // could not start a thread: only this connection is lost
        acceptor.done();
        return;
      }
      thread.on('error', () => {}); // a thread that dies loses only its own connection, closed by reapHeld below
      const ended = new Promise<void>((resolve) =>
        thread.once('exit', () => {
          reapHeld(slot);
          live.delete(slot);
          acceptor.done();
          resolve();
        }),
      );
      live.set(slot, { thread, gate: data.gate, ended });
    });

    return {
      url: listener.url,
      effectiveBacklog: listener.effectiveBacklog,
      notes: [...listener.notes, cap.note],
      async close() {
        await acceptor.stop();
        libc().close(listener.fd);
        // Wake threads blocked on their client, and stop those still starting (their connection is closed on exit).
        for (const [slot, { thread, gate }] of live) {
          wakeHolder(slot);
          if (shutGate(gate)) void thread.terminate();
        }
        await Promise.all([...live.values()].map((t) => t.ended));
      },
    };
  },
};

// The connection thread: serve the one connection it was given, close it, and end.
if (!isMainThread && (workerData as ConnectionData | undefined)?.role === ROLE) {
  const { fd, slot, gate, pageBytes } = workerData as ConnectionData;
  if (passGate(gate)) {
    serveConnection(fd, buildResponses(pageBytes));
    closeHeld(slot, fd);
  }
}
