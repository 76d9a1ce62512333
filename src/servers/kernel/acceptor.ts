// The paper's toy servers: "a single thread or process waits for incoming connections, and spawns a new thread or
// process as soon as one is accepted". Node's main thread must not block, so that single waiting thread is this
// worker thread, blocked in accept(2); it hands each accepted descriptor to the main thread, which spawns.
// At the live cap it stops accepting, so further connections wait in the kernel's accept queue, as they would
// for a C server whose pthread_create or fork had to wait.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { libc, SHUT_RDWR } from '../../core/libc.js';
import { acceptBlocking } from './connection.js';

const ROLE = 'eventbench-acceptor';
const STOPPING = 0;
const LIVE = 1;

export interface Acceptor {
  /** One spawned thread or process has ended: one more may be accepted. */
  done(): void;
  /** Stops accepting (shuts the listening socket down) and resolves once the accepting thread has ended. */
  stop(): Promise<void>;
}

/** Starts the accepting thread; `spawn` gets each accepted descriptor and owns it from then on. */
export function startAcceptor(listenFd: number, maxLive: number, idleTimeoutMs: number, spawn: (fd: number) => void): Acceptor {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, listenFd, maxLive, idleTimeoutMs, control } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('error', () => {}); // the accepting thread ending is seen by stop(); it holds no connection
  worker.on('message', (fd: number) => {
    if (Atomics.load(control, STOPPING)) {
      libc().close(fd);
      Atomics.sub(control, LIVE, 1);
    } else spawn(fd);
  });
  return {
    done() {
      Atomics.sub(control, LIVE, 1);
      Atomics.notify(control, LIVE);
    },
    async stop() {
      Atomics.store(control, STOPPING, 1);
      Atomics.notify(control, LIVE);
      libc().shutdown(listenFd, SHUT_RDWR); // a thread blocked in accept(2) returns EINVAL
      await exited;
    },
  };
}

if (!isMainThread && workerData?.role === ROLE) {
  const { listenFd, maxLive, idleTimeoutMs, control } = workerData as {
    listenFd: number;
    maxLive: number;
    idleTimeoutMs: number;
    control: Int32Array;
  };
  for (;;) {
    for (let live = Atomics.load(control, LIVE); live >= maxLive && !Atomics.load(control, STOPPING); live = Atomics.load(control, LIVE)) {
      Atomics.wait(control, LIVE, live);
    }
    if (Atomics.load(control, STOPPING)) break;
    const fd = acceptBlocking(listenFd, idleTimeoutMs);
    if (fd < 0) break;
    Atomics.add(control, LIVE, 1);
    parentPort?.postMessage(fd);
  }
}
