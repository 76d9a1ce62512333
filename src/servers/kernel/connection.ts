// One connection served the way a kernel thread serves it: blocking system calls, one after the other.
// Shared by `threads`, `thread-pool` and `processes`, so that only how the thread or process comes to exist differs.
// read(2), write(2) and close(2) are Node's own synchronous fs calls on the socket's descriptor (blocking, since
// accept(2) made it so): they need no FFI, which a fresh thread or process would otherwise have to load first.
import { closeSync, readSync, writeSync } from 'node:fs';
import { answer, headEnd, MAX_HEAD_BYTES } from '../request.js';
import type { Responses } from '../page.js';
import { libc, EBADF, EINVAL, EMFILE, ENFILE, ENOBUFS, ENOMEM, ENOTSOCK, SHUT_RDWR, SHUT_WR, SOCK_CLOEXEC } from '../../core/libc.js';

/** How long, at most, a connection is drained after an error response so that closing it does not reset it. */
const LINGER_MS = 1000;
const LINGER_BYTES = 64 * 1024;

/** read(2) or write(2), retried on EINTR; -1 on any other error (a reset, the idle timeout: EAGAIN). */
function io(call: (fd: number, buf: Buffer) => number, fd: number, buf: Buffer): number {
  for (;;) {
    try {
      return call(fd, buf);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EINTR') return -1;
    }
  }
}
const read = (fd: number, buf: Buffer) => readSync(fd, buf, 0, buf.length, null);
const write = (fd: number, buf: Buffer) => writeSync(fd, buf, 0, buf.length);

/**
 * Reads the request head, writes the response, and returns: the caller closes `fd`. Every read and write waits at
 * most the idle timeout set on the socket when it was accepted (acceptBlocking); end of file, a reset or a
 * timeout just ends this connection.
 */
export function serveConnection(fd: number, responses: Responses): void {
  const received = Buffer.allocUnsafe(MAX_HEAD_BYTES + 1); // one byte past the limit is enough to answer 431
  let length = 0;
  let reply: Buffer | undefined;
  while (reply === undefined) {
    const n = io(read, fd, received.subarray(length));
    if (n <= 0) return; // the client closed, reset, or stayed silent too long
    length += n;
    reply = answer(received.subarray(0, length), responses);
  }
  for (let sent = 0; sent < reply.length; ) {
    const n = io(write, fd, reply.subarray(sent));
    if (n <= 0) return;
    sent += n;
  }
  // Closing with unread bytes (an over-long head, a body) would reset the connection and could destroy the
  // response in flight; like Apache's lingering close, half-close and drain for a short while when some may be left.
  if ((reply !== responses.get && reply !== responses.head) || headEnd(received.subarray(0, length)) < length) {
    const sys = libc();
    sys.shutdown(fd, SHUT_WR);
    sys.setTimeouts(fd, LINGER_MS);
    for (let drained = 0; drained < LINGER_BYTES; ) {
      const n = io(read, fd, received);
      if (n <= 0) break;
      drained += n;
    }
  }
}

/**
 * Blocks in accept(2) on a shared listening socket; returns the new connection's descriptor, or -1 once the
 * socket is shut down (close() shuts it down to wake every thread blocked here).
 */
export function acceptBlocking(listenFd: number, idleTimeoutMs: number): number {
  const sys = libc();
  for (;;) {
    const fd = sys.accept4(listenFd, null, null, SOCK_CLOEXEC);
    if (fd >= 0) {
      sys.setTimeouts(fd, idleTimeoutMs);
      return fd;
    }
    const errno = sys.errno();
    if (errno === EINVAL || errno === EBADF || errno === ENOTSOCK) return -1; // shut down by close()
    // Anything else (a connection aborted while queued, out of descriptors or buffers) concerns one connection
    // or passes: wait a little if it may be a shortage, and accept again.
    if (errno === EMFILE || errno === ENFILE || errno === ENOBUFS || errno === ENOMEM) sleepMs(100);
  }
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// A slot: one Int32 shared between the thread serving a connection and the main thread, which must be able to
// wake that thread out of a blocking read when the server closes. Without the lock, the main thread could shut
// down a descriptor number that the serving thread had just closed and that the process had already reused.
const FREE = -1;
const BUSY = -2;

export function newSlot(fd = FREE): Int32Array {
  const slot = new Int32Array(new SharedArrayBuffer(4));
  slot[0] = fd;
  return slot;
}

/** Serving thread: `fd` is now the connection this thread serves. */
export function holdFd(slot: Int32Array, fd: number): void {
  Atomics.store(slot, 0, fd);
}

/** Serving thread: closes the connection it held, waiting if the main thread is shutting it down right now. */
export function closeHeld(slot: Int32Array, fd: number): void {
  while (Atomics.compareExchange(slot, 0, fd, FREE) === BUSY) Atomics.wait(slot, 0, BUSY);
  closeSync(fd);
}

/** Main thread: wakes the thread serving the slot's connection, if any (its blocking call returns at once). */
export function wakeHolder(slot: Int32Array): void {
  const fd = Atomics.load(slot, 0);
  if (fd < 0 || Atomics.compareExchange(slot, 0, fd, BUSY) !== fd) return;
  libc().shutdown(fd, SHUT_RDWR);
  Atomics.store(slot, 0, fd);
  Atomics.notify(slot, 0);
}

/** Main thread, once the serving thread has ended: closes the connection if the thread died holding it. */
export function reapHeld(slot: Int32Array): void {
  const fd = Atomics.load(slot, 0);
  if (fd >= 0 && Atomics.compareExchange(slot, 0, fd, FREE) === fd) libc().close(fd);
}

// Stopping a thread that is still starting. Terminating a worker while it is inside the FFI (loading libc) aborts
// the whole process, so a thread and close() race for a one-word gate: the thread passes it (and may then load
// the FFI) or close() shuts it (and may then terminate the thread, which has not touched the FFI and never will).
const GATE_OPEN = 0;
const GATE_PASSED = 1;
const GATE_SHUT = 2;

export function newGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Worker thread, before its first FFI call: false when close() got there first (the thread must just end). */
export function passGate(gate: Int32Array): boolean {
  return Atomics.compareExchange(gate, 0, GATE_OPEN, GATE_PASSED) === GATE_OPEN;
}

/** close(): true when the thread had not passed its gate, so terminating it is safe. */
export function shutGate(gate: Int32Array): boolean {
  return Atomics.compareExchange(gate, 0, GATE_OPEN, GATE_SHUT) === GATE_OPEN;
}
