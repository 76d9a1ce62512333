// What the benches against a server that is not the bottleneck share (loadgen, openloop): nginx with one worker,
// else the fastest server eventbench has, pinned to core 0 and unthrottled, the client pinned to core 1.
import { findModel } from '../src/servers/registry.js';
import type { ServerModel } from '../src/servers/types.js';
import { benchHosts } from './host-setup.js';
export { median } from '../src/core/numbers.js';

/** The first of `asked` (else nginx, native-epoll, events) that can run here, on hosts set up unthrottled and pinned. */
type Unthrottled = { server: string; model: ServerModel } & Awaited<ReturnType<typeof benchHosts>>;

export async function unthrottledServer(asked?: string): Promise<Unthrottled> {
  for (const name of asked ? [asked] : ['nginx', 'native-epoll', 'events']) {
    const model = findModel(name);
    const a = await model?.available();
    if (model && a?.ok) {
      const set = await benchHosts({ serverCpus: '0', clientCpus: '1', serverCpuShare: 0, throttlePeriodMs: 10 });
      const pinned = set.host.pinned ? '' : ' (taskset missing: NOT pinned)';
      process.stderr.write(`server ${name} on CPU 0, unthrottled; client on CPU 1${pinned}\n`);
      return { server: name, model, ...set };
    }
    process.stderr.write(`${name} is not available here${a && !a.ok ? ` (${a.reason})` : ''}\n`);
  }
  throw new Error('no server available');
}
