// A worker thread of `--workers N`: runs its share of the closed loop on its own event loop, then sends its
// records back (transferred, not copied) with its clock origin so the main thread can merge them in start order.
import { parentPort, workerData } from 'node:worker_threads';
import { runLoop, type LoopOptions } from './loop.js';
import { RECORD_ARRAYS } from './records.js';

const port = parentPort!;
const controller = new AbortController();
port.on('message', (message) => {
  if (message === 'stop') controller.abort();
});

const options = workerData as Omit<LoopOptions, 'signal' | 'onProgress'>;
const outcome = await runLoop({
  ...options,
  request: Buffer.from(options.request),
  signal: controller.signal,
  onProgress: (progress) => port.postMessage({ type: 'progress', progress }),
});
const data = outcome.records.toTransfer();
port.postMessage(
  {
    type: 'done',
    data,
    timeOrigin: performance.timeOrigin,
    documentBytes: outcome.documentBytes,
    stoppedEarly: outcome.stoppedEarly,
    transport: outcome.transport,
  },
  RECORD_ARRAYS.map((name) => data[name].buffer as ArrayBuffer),
);
port.close();
