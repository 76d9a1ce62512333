// The listening socket the kernel-thread and process models share among their threads, and the cap on how many
// threads or processes may live at once.
import net from 'node:net';
import os from 'node:os';
import type { ServeOptions } from '../types.js';
import { libc } from '../../core/libc.js';
import { backlogInForce } from '../../core/backlog.js';

export interface Listener {
  /** A blocking, close-on-exec descriptor of the listening socket, for accept(2) in any thread. */
  fd: number;
  url: string;
  effectiveBacklog: number;
  notes: string[];
}

/**
 * Listens with Node (it resolves the host, binds, and passes the backlog to listen(2)), then keeps only a
 * blocking duplicate of the socket and closes Node's handle, so that no event loop ever accepts from it.
 */
export async function listenShared(options: ServeOptions): Promise<Listener> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, backlog: options.backlog }, resolve);
  });
  // Node exposes no public accessor for the descriptor; `_handle.fd` is how it is reached on Unix.
  const handle = (server as unknown as { _handle: { fd?: number } | null })._handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0)
    throw new Error("cannot reach the listening socket descriptor (this runtime's node:net does not expose it; Deno does not)");
  const { address: host, port } = server.address() as net.AddressInfo;
  const fd = libc().dupBlocking(handle.fd as number);
  server.close(); // synchronous on the handle: the event loop stops polling before it could accept anything
  const { backlog: effectiveBacklog, notes } = backlogInForce(options.backlog);
  return { fd, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`, effectiveBacklog, notes };
}

/** The live cap chosen when the user gives none: half of the available memory, at `bytesEach` per thread/process. */
export function defaultMaxLive(bytesEach: number, what: string): { maxLive: number; note: string } {
  const constrained = process.constrainedMemory?.() ?? 0;
  const availableBytes = Math.min(os.freemem(), constrained > 0 ? constrained : Infinity);
  const maxLive = Math.max(1, Math.min(10_000, Math.floor(availableBytes / 2 / bytesEach)));
  const mib = (n: number) => Math.round(n / 2 ** 20);
  return {
    maxLive,
    note: `at most ${maxLive} live ${what} (half of ${mib(availableBytes)} MiB available at ~${mib(bytesEach)} MiB each; set maxLive to change); more connections wait in the accept queue`,
  };
}
