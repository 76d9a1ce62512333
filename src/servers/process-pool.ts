// The `process-pool` model, answering the paper's Apache prefork row: a fixed set of processes, started before
// any client comes, share one listening socket and each accepts from it (node:cluster with SCHED_NONE, so the
// kernel hands each connection to whichever process calls accept() first, as prefork children do; not cluster's
// default round robin, where the primary accepts and passes sockets on). Each process serves its connections with
// the `events` handler: unlike a prefork child it can hold several at once, since Node cannot block a process on
// one socket. The primary only starts the processes, replaces one that dies, and stops them all on close.
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RunningServer, ServeOptions, ServerModel } from './types.js';
import { ServerError } from '../core/errors.js';
import { effectiveBacklog, startNetServer } from './listen.js';
import { onConnection } from './events.js';
import { EVERY_RUNTIME } from './runtime.js';

const OPTIONS_ENV = 'EVENTBENCH_POOL_OPTIONS';
const DEFAULT_WORKERS = Math.max(4, os.availableParallelism());
const START_TIMEOUT_MS = 15_000;

type FromWorker = { listening: string } | { failed: string };

/** In a pool process: listen on the shared socket and serve until the primary stops us. */
async function runWorker(options: ServeOptions): Promise<void> {
  try {
    const server = await startNetServer(options, onConnection);
    process.send!({ listening: server.url } satisfies FromWorker);
  } catch (err) {
    process.send!({ failed: (err as Error).message } satisfies FromWorker);
    process.exitCode = 1;
  }
}

/** Forks one pool process and resolves with the URL it listens on. */
function fork(options: ServeOptions, workers: Set<Worker>): Promise<{ worker: Worker; url: string }> {
  const worker = cluster.fork({ [OPTIONS_ENV]: JSON.stringify(options) });
  workers.add(worker);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ServerError(`process-pool: a process did not listen within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    worker.on('message', (m: FromWorker) => {
      clearTimeout(timer);
      if ('listening' in m) resolve({ worker, url: m.listening });
      else reject(new ServerError(`process-pool: a process failed to listen: ${m.failed}`));
    });
    worker.once('exit', (code, signal) => {
      clearTimeout(timer);
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      reject(
        new ServerError(
          `process-pool: a worker process ${how} before it listened; run \`eventbench serve process-pool\` alone to see its error`,
        ),
      );
    });
  });
}

async function startPool(options: ServeOptions): Promise<RunningServer> {
  const count = options.workers ?? DEFAULT_WORKERS;
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  // Workers print nothing on stdout: the listening line is the primary's alone.
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const workers = new Set<Worker>();
  let closing = false;
  const stopAll = () =>
    Promise.all(
      [...workers].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );

  // Every process asks for the same host:port (even port 0): the primary binds it once and shares that socket.
  let url: string;
  try {
    const started = await Promise.all(Array.from({ length: count }, () => fork(options, workers)));
    url = started[0]!.url;
  } catch (err) {
    await stopAll();
    throw err;
  }
  // Prefork's habit: a process that dies is replaced, so the pool keeps its size.
  cluster.on('exit', (worker) => {
    workers.delete(worker);
    if (!closing) void fork(options, workers).catch(() => {});
  });

  const { backlog, notes } = effectiveBacklog(options.backlog);
  return {
    url,
    effectiveBacklog: backlog,
    notes: [...notes, `${count} processes share the listening socket (--workers to change)`],
    async close() {
      closing = true;
      await stopAll();
    },
  };
}

export const processPool: ServerModel = {
  name: 'process-pool',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: 'Apache',
  connection: 'pool',
  slow: false,
  summary: "Apache prefork's model: a pool of pre-started processes accepting on one shared listening socket (node:cluster)",
  async available() {
    return { ok: true };
  },
  start: startPool,
};

if (cluster.isWorker && process.env[OPTIONS_ENV]) void runWorker(JSON.parse(process.env[OPTIONS_ENV]) as ServeOptions);
