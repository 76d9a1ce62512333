// The paper's memory claim (events use less memory per connection than threads), judged from the memory
// experiment (memory.json): which side of the claim each server is on (its model declares how it holds a
// connection), and the median cost per connection of each side, in user space and then with the kernel counted
// too. Pure: the stored run in, a verdict and a sentence out (memory.ts shows it; claims.ts lists it).
import type { MemoryRun, MemoryServer } from '../results/schema.js';
import type { ConnectionKind } from '../servers/registry.js';
import { kindOf } from './kinds.js';
import { bytesText } from '../core/format.js';
import { median } from '../core/numbers.js';

/**
 * Which side of the claim each way of holding a connection is on (the model declares its kind, src/servers/types.ts):
 * an event loop's record ('events'), a kernel thread or process, own or of a pool ('threads'), or a user-space
 * thread or continuation ('user threads', neither side).
 */
const CLAIM_SIDE: Readonly<Partial<Record<ConnectionKind, 'events' | 'threads' | 'user threads'>>> = {
  event: 'events',
  thread: 'threads',
  process: 'threads',
  pool: 'threads',
  'user-thread': 'user threads',
};

/**
 * The claim's side of a measured server: from what memory.json recorded of it, else from its model (a runtime
 * variant's is its model's); undefined when unknown (a user's server that did not say).
 */
export function claimSide(s: Pick<MemoryServer, 'server' | 'connection'>): 'events' | 'threads' | 'user threads' | undefined {
  return CLAIM_SIDE[s.connection ?? kindOf(s.server)];
}

/** User space and kernel per connection, bytes, when both were measured (the kernel's only from the server's own cgroup). */
export function totalBytesPerConnection(s: MemoryServer): number | undefined {
  const k = s.kernel;
  return s.measurable && k?.measurable && k.source !== 'host' ? s.fit!.bytesPerConnection + k.fit!.bytesPerConnection : undefined;
}

export interface MemoryClaim {
  verdict: 'confirmed' | 'refuted' | 'not testable here';
  text: string;
  /** The median user-space bytes per connection of the event servers and of the thread and process servers, when measured. */
  eventsBytes?: number;
  threadsBytes?: number;
}

/**
 * The paper's claim against the measured servers: the median bytes per connection of each side, in user space;
 * then, where the servers' own cgroups measured their kernel memory too, with it counted.
 */
export function memoryClaim(run: MemoryRun): MemoryClaim {
  const side = (kind: string, cost: (s: MemoryServer) => number | undefined) =>
    run.servers
      .filter((s) => claimSide(s) === kind)
      .map(cost)
      .filter((x): x is number => x !== undefined);
  const user = (s: MemoryServer) => (s.measurable ? s.fit!.bytesPerConnection : undefined);
  const medianOf = (xs: number[]) => (xs.length ? median(xs) : undefined);
  const events = medianOf(side('events', user));
  const threads = medianOf(side('threads', user));
  const claim = 'The paper: events use less memory per connection than threads.';
  if (events === undefined || threads === undefined) {
    return {
      verdict: 'not testable here',
      text: `${claim} Not testable here: ${events === undefined ? 'no event server' : 'no thread or process server'} had a measurable cost per connection.`,
    };
  }
  const verdict = events < threads ? 'confirmed' : 'refuted';
  const text =
    `${claim} ${verdict === 'confirmed' ? 'Confirmed' : 'Refuted'} here: the median event server costs ${bytesText(events)} ` +
    `per connection (${side('events', user).length} servers), the median thread or process server ${bytesText(threads)} ` +
    `(${side('threads', user).length}).`;
  const eventsAll = side('events', totalBytesPerConnection);
  const threadsAll = side('threads', totalBytesPerConnection);
  const medians = { eventsBytes: events, threadsBytes: threads };
  if (eventsAll.length === 0 || threadsAll.length === 0) return { verdict, text, ...medians };
  const counted =
    `${bytesText(median(eventsAll))} (${eventsAll.length} event servers) against ${bytesText(median(threadsAll))} ` +
    `(${threadsAll.length})`;
  return { verdict, text: `${text} With the kernel's memory counted too: ${counted}.`, ...medians };
}
