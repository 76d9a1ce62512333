// The `coroutines` model, answering the paper's user-space thread rows (ST, Pth): one thread per connection,
// written as a plain sequential loop (read until the head is complete, write the answer, close), where each
// blocking point yields to our own scheduler (scheduler.ts: run queue, min-heap of timeouts, as ST has).
// The idle timeout is the timeout of each blocking point, kept in the heap, not a timer per socket.
import type net from 'node:net';
import type { ServeOptions, ServerModel } from '../types.js';
import { answer } from '../request.js';
import { startNetServer, type ConnectionContext } from '../listen.js';
import { READY, Scheduler, type Body } from './scheduler.js';
import { EVERY_RUNTIME } from '../runtime.js';

/** One connection's thread: the paper's toy server body, blocking on the socket through the scheduler. */
function* connectionThread(scheduler: Scheduler, socket: net.Socket, context: ConnectionContext): Body {
  let received: Buffer | undefined;
  for (;;) {
    const chunk = socket.read() as Buffer | null;
    if (chunk === null) {
      if (socket.readableEnded || socket.destroyed) break;
      if ((yield scheduler.waitReadable(context.idleTimeoutMs)) !== READY) break; // silent too long, or closed
      continue;
    }
    received = received === undefined ? chunk : Buffer.concat([received, chunk]);
    const response = answer(received, context.responses);
    if (response === undefined) continue;
    if (!socket.write(response) && (yield scheduler.waitWritable(context.idleTimeoutMs)) !== READY) break;
    if (socket.writableLength === 0) break; // all of it is in the kernel: close(2), as the paper's servers did
    socket.end(); // still queued in libuv: FIN after it
    return;
  }
  socket.destroy();
}

export const coroutines: ServerModel = {
  name: 'coroutines',
  family: 'typescript',
  runtimes: EVERY_RUNTIME,
  paperRow: 'ST',
  connection: 'user-thread',
  slow: false,
  summary: 'user-space threads: generator functions run by our own scheduler (run queue, min-heap of timeouts)',
  async available() {
    return { ok: true };
  },
  start(options: ServeOptions) {
    const scheduler = new Scheduler();
    return startNetServer(options, (socket, context) => {
      // The reaper does not time these threads out (the heap does); it only ends them when the server closes.
      const watch = { lastActiveMs: Infinity, expire: () => socket.destroy() };
      context.reaper.add(watch);
      socket.on('close', () => context.reaper.delete(watch));
      scheduler.spawn(socket, connectionThread(scheduler, socket, context));
    });
  },
};
