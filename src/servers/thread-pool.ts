// `thread-pool`: a fixed pool of kernel threads, the paper's Apache worker.
//
// The main thread listens, then starts `workers` worker threads (node:worker_threads, each a kernel thread with
// its own V8 isolate) and does nothing else. Every pool thread loops: block in accept(2) on the one shared
// listening socket (the kernel hands each connection to exactly one of them), serve the connection with blocking
// read(2)/write(2) (kernel/connection.ts), close it, accept again. A connection finds a free thread or waits in
// the kernel's accept queue. Threads are started once, so unlike `threads` no thread is created per connection;
// a slow client holds one pool thread for up to the idle timeout, as it holds an Apache worker thread.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { RunningServer, ServeOptions, ServerModel } from './types.js';
import { buildResponses } from './page.js';
import { libc, SHUT_RDWR } from '../core/libc.js';
import { listenShared } from './kernel/listener.js';
import {
  acceptBlocking,
  closeHeld,
  holdFd,
  newGate,
  newSlot,
  passGate,
  reapHeld,
  serveConnection,
  shutGate,
  wakeHolder,
} from './kernel/connection.js';
import { threads } from './threads.js';
import { KERNEL_THREAD_RUNTIMES } from './runtime.js';

const ROLE = 'eventbench-pool-thread';
/** Pool size when ServeOptions.workers is not given: the threads of one Apache worker child (ThreadsPerChild). */
export const DEFAULT_POOL_THREADS = 25;
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2, stackSizeMb: 1 };

interface PoolThreadData {
  role: typeof ROLE;
  listenFd: number;
  /** [0]: set to 1 when the server closes. */
  stopping: Int32Array;
  /** The connection this thread is serving, so that close() can wake it. */
  slot: Int32Array;
  /** Passed by the thread before it first uses the FFI; see passGate. */
  gate: Int32Array;
  pageBytes: number;
  idleTimeoutMs: number;
}

export const threadPool: ServerModel = {
  name: 'thread-pool',
  family: 'typescript',
  runtimes: KERNEL_THREAD_RUNTIMES,
  paperRow: 'Apache',
  connection: 'pool',
  slow: false,
  conformance: {
    limits: {
      slowloris:
        `a fixed pool of ${DEFAULT_POOL_THREADS} threads: clients that trickle a header line more often than the idle timeout ` +
        "hold every thread, so an ordinary client waits (as with Apache worker's ThreadsPerChild)",
    },
  },
  summary: "Apache worker's model: a fixed pool of kernel threads (worker threads) blocking in accept(2) on one listening socket",
  available: () => threads.available(),

  async start(options: ServeOptions): Promise<RunningServer> {
    const listener = await listenShared(options);
    const size = options.workers ?? DEFAULT_POOL_THREADS;
    const stopping = new Int32Array(new SharedArrayBuffer(4));
    const pool = new Map<Int32Array, { thread: Worker; gate: Int32Array; ended: Promise<void> }>();

    // Starts one pool thread; resolves once it is ready to accept. One that dies unexpectedly is replaced.
    const startThread = (): Promise<void> => {
      const slot = newSlot();
      const data: PoolThreadData = {
        role: ROLE,
        listenFd: listener.fd,
        stopping,
        slot,
        gate: newGate(),
        pageBytes: options.pageBytes,
        idleTimeoutMs: options.idleTimeoutMs,
      };
      const thread = new Worker(new URL(import.meta.url), { workerData: data, resourceLimits: RESOURCE_LIMITS, trackUnmanagedFds: false });
      thread.on('error', () => {}); // its connection is closed by reapHeld below
      const ready = new Promise<void>((resolve, reject) => {
        thread.once('message', () => resolve());
        thread.once('exit', () => reject(new Error('a pool thread ended before it was ready')));
      });
      const ended = new Promise<void>((resolve) =>
        thread.once('exit', () => {
          reapHeld(slot);
          pool.delete(slot);
          if (!Atomics.load(stopping, 0)) void startThread().catch(() => {});
          resolve();
        }),
      );
      pool.set(slot, { thread, gate: data.gate, ended });
      return ready;
    };

    const server = {
      url: listener.url,
      effectiveBacklog: listener.effectiveBacklog,
      notes: [...listener.notes, `a pool of ${size} threads`],
      async close() {
        Atomics.store(stopping, 0, 1);
        libc().shutdown(listener.fd, SHUT_RDWR); // threads blocked in accept(2) return EINVAL
        // Wake threads blocked on a client, and stop any still starting (a connection held is closed on exit).
        for (const [slot, { thread, gate }] of pool) {
          wakeHolder(slot);
          if (shutGate(gate)) void thread.terminate();
        }
        await Promise.all([...pool.values()].map((t) => t.ended));
        libc().close(listener.fd);
      },
    };
    try {
      await Promise.all(Array.from({ length: size }, startThread));
    } catch (error) {
      await server.close();
      throw error;
    }
    return server;
  },
};

// A pool thread: accept, serve, close, until the server closes.
if (!isMainThread && (workerData as PoolThreadData | undefined)?.role === ROLE) {
  const { listenFd, stopping, slot, gate, pageBytes, idleTimeoutMs } = workerData as PoolThreadData;
  const responses = buildResponses(pageBytes);
  const go = passGate(gate);
  if (go) libc(); // load the FFI before saying ready
  parentPort?.postMessage('ready');
  while (go && !Atomics.load(stopping, 0)) {
    const fd = acceptBlocking(listenFd, idleTimeoutMs);
    if (fd < 0) break;
    holdFd(slot, fd);
    // close() sets `stopping` before waking slots: either it saw this fd, or this thread sees `stopping` here.
    if (!Atomics.load(stopping, 0)) serveConnection(fd, responses);
    closeHeld(slot, fd);
  }
}
