// The C library through the koffi FFI: the few system calls the kernel-thread and process models make themselves
// (below), and the loaded library that the event loops over epoll(7) bind their own calls from (syscalls.ts).
// Why the kernel threads need it: Node's sockets belong to the event loop of the thread that made them and cannot
// move to a worker thread, but a file descriptor can. A worker that owns a descriptor and blocks in accept(2),
// read(2) and send(2) is a kernel thread doing its own I/O, as in the paper's NPTL server. Linux only (the
// constants below are Linux's).
import { createRequire } from 'node:module';
import { SystemCallError } from './errors.js';

type Koffi = typeof import('koffi');

export const SOCK_CLOEXEC = 0o2000000;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const EBADF = 9;
export const ENOMEM = 12;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTSOCK = 88;
export const ENOBUFS = 105;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const F_DUPFD_CLOEXEC = 1030;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const PR_SET_PDEATHSIG = 1;

export interface Libc {
  accept4(fd: number, addr: null, len: null, flags: number): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  send(fd: number, buf: Uint8Array, count: number, flags: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /** A blocking, close-on-exec duplicate of `fd` (Node's descriptors are non-blocking). */
  dupBlocking(fd: number): number;
  /** Bounds every blocking read and send on `fd` (SO_RCVTIMEO, SO_SNDTIMEO): the idle timeout. */
  setTimeouts(fd: number, timeoutMs: number): void;
  /** Asks the kernel to send `signal` to this process when its parent dies. */
  dieWithParent(signal: number): void;
}

let library: { koffi: Koffi; c: ReturnType<Koffi['load']> } | undefined;

/** koffi and the C library, loaded on first use so that merely listing the models does not load the FFI. */
export function cLibrary(): { koffi: Koffi; c: ReturnType<Koffi['load']> } {
  if (library) return library;
  if (process.platform !== 'linux') throw new Error(`these system calls are Linux's, this is ${process.platform}`);
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  library = { koffi, c: koffi.load('libc.so.6') };
  return library;
}

let loaded: Libc | undefined;

/** The kernel threads' bindings, loaded on first use. */
export function libc(): Libc {
  if (loaded) return loaded;
  const { koffi, c } = cLibrary();
  const fcntl = c.func('int fcntl(int, int, int)');
  const setsockopt = c.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const prctl = c.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
  loaded = {
    accept4: c.func('int accept4(int, void *, void *, int)'),
    read: c.func('intptr_t read(int, void *, uintptr_t)'),
    send: c.func('intptr_t send(int, const void *, uintptr_t, int)'),
    shutdown: c.func('int shutdown(int, int)'),
    close: c.func('int close(int)'),
    errno: () => koffi.errno(),
    dupBlocking(fd) {
      const dup = fcntl(fd, F_DUPFD_CLOEXEC, 0) as number;
      if (dup < 0)
        throw new SystemCallError(
          'fcntl(F_DUPFD_CLOEXEC)',
          koffi.errno(),
          'the listening socket could not be handed to the kernel threads',
        );
      fcntl(dup, F_SETFL, (fcntl(dup, F_GETFL, 0) as number) & ~O_NONBLOCK);
      return dup;
    },
    setTimeouts(fd, timeoutMs) {
      const timeval = Buffer.alloc(16); // struct timeval { long tv_sec; long tv_usec; } on 64-bit Linux
      timeval.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
      timeval.writeBigInt64LE(BigInt(Math.round((timeoutMs % 1000) * 1000)), 8);
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeval, 16);
    },
    dieWithParent(signal) {
      prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
    },
  };
  return loaded;
}
