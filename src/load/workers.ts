// `--workers N`: the closed loop split over N worker threads (each its own event loop and core), the concurrency
// and request count divided among them, their records merged into one start-ordered set.
import { Worker } from 'node:worker_threads';
import { Records, type RecordsData } from './records.js';
import type { LoopOptions, LoopOutcome } from './loop.js';
import type { Progress } from './types.js';

interface Done {
  type: 'done';
  data: RecordsData;
  timeOrigin: number;
  documentBytes: number | null;
  stoppedEarly?: LoopOutcome['stoppedEarly'];
  transport: LoopOutcome['transport'];
}

/** Splits `total` into `parts` near-equal whole shares. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, k) => Math.floor(total / parts) + (k < total % parts ? 1 : 0));
}

export async function runWorkers(options: LoopOptions, workers: number): Promise<LoopOutcome> {
  const { signal, onProgress, ...plain } = options;
  const concurrency = shares(options.concurrency, workers);
  const requests = options.requests === undefined ? undefined : shares(options.requests, workers);
  const progress: Progress[] = [];
  const threads = concurrency.map(
    (c, k) =>
      new Worker(new URL('./worker.js', import.meta.url), {
        workerData: { ...plain, concurrency: c, requests: requests?.[k], bailout: undefined },
      }),
  );
  const stopAll = () => {
    for (const t of threads) t.postMessage('stop');
  };
  signal?.addEventListener('abort', stopAll, { once: true });
  const results = await Promise.all(
    threads.map(
      (thread, k) =>
        new Promise<Done>((resolve, reject) => {
          thread.on('message', (m: Done | { type: 'progress'; progress: Progress }) => {
            if (m.type === 'done') return resolve(m);
            progress[k] = m.progress;
            if (k === 0 && onProgress) onProgress(sum(progress, options));
            if (options.bailout !== undefined && progress.reduce((s, p) => s + (p?.errors ?? 0), 0) >= options.bailout) stopAll();
          });
          thread.once('error', reject);
          thread.once('exit', (code) => reject(new Error(`load worker ${k} exited with code ${code} before reporting`)));
        }),
    ),
  );
  signal?.removeEventListener('abort', stopAll);
  const base = performance.timeOrigin;
  const slotBase = concurrency.map((_, k) => concurrency.slice(0, k).reduce((a, b) => a + b, 0));
  const records = Records.merge(
    results.map((r) => r.data),
    results.map((r) => r.timeOrigin - base),
    slotBase,
  );
  const bailedOut = options.bailout !== undefined && results.some((r) => r.stoppedEarly === 'aborted') && !signal?.aborted;
  return {
    records,
    documentBytes: results.find((r) => r.documentBytes !== null)?.documentBytes ?? null,
    stoppedEarly: bailedOut ? 'bailout' : results.find((r) => r.stoppedEarly)?.stoppedEarly,
    transport: results[0]!.transport,
  };
}

function sum(parts: Progress[], o: LoopOptions): Progress {
  const total = (f: (p: Progress) => number) => parts.reduce((s, p) => s + (p ? f(p) : 0), 0);
  return {
    started: total((p) => p.started),
    completed: total((p) => p.completed),
    errors: total((p) => p.errors),
    elapsedS: Math.max(...parts.map((p) => p?.elapsedS ?? 0)),
    total: o.requests,
    durationS: o.durationS,
  };
}
