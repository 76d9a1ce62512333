// What the benches against a server that is not the bottleneck share (loadgen, openloop): nginx with one worker,
// else the fastest server eventbench has, pinned to core 0 and unthrottled, the client pinned to core 1.
import { findModel } from '../src/servers/registry.js';
import { createThrottle, type Throttle } from '../src/host/throttle.js';
import { hasTaskset } from '../src/host/cpus.js';
import type { ServerModel } from '../src/servers/types.js';
export { median } from '../src/core/numbers.js';

/** The first of `asked` (else nginx, native-epoll, events) that can run here, with an inert throttle and the pinning. */
export async function unthrottledServer(asked?: string): Promise<{ server: string; model: ServerModel; throttle: Throttle; pin: boolean }> {
  for (const name of asked ? [asked] : ['nginx', 'native-epoll', 'events']) {
    const model = findModel(name);
    const a = await model?.available();
    if (model && a?.ok) {
      const pin = hasTaskset();
      process.stderr.write(`server ${name} on CPU 0, unthrottled; client on CPU 1${pin ? '' : ' (taskset missing: NOT pinned)'}\n`);
      return { server: name, model, throttle: createThrottle(0), pin };
    }
    process.stderr.write(`${name} is not available here${a && !a.ok ? ` (${a.reason})` : ''}\n`);
  }
  throw new Error('no server available');
}
