// What an event loop over epoll(7) needs beyond the bare calls (ffi.ts): Linux's constants, one epoll set with its
// array of ready events, socket addresses, and a listening socket made without the runtime's own networking (which
// Deno's node:net would not hand over: it has no descriptor). The events-epoll server and the load client's epoll
// transport share all of it.
import { SystemCallError } from './errors.js';
import { ffi, type Calls, type Ffi, type Pinned } from './ffi.js';

export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const EINPROGRESS = 115;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SHUT_WR = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const EPOLL_CLOEXEC = 0o2000000;

/**
 * struct epoll_event is { uint32_t events; uint64_t data; }, packed on x86-64 (12 bytes) and aligned elsewhere
 * (16 bytes): its fields as 32-bit words, the events at `stride * i` and the data's low word `DATA` after them.
 */
const PACKED = process.arch === 'x64' || process.arch === 'ia32';
const STRIDE = PACKED ? 3 : 4;
const DATA = PACKED ? 1 : 2;

/**
 * One epoll set and the array epoll_wait fills. Each watched descriptor carries two 32-bit words of its own
 * choosing (epoll's data): the descriptor itself, and a tag (the client's generation of that descriptor number).
 */
export class EpollSet {
  readonly fd: number;
  /** The ready events of the last wait, as words: flags(i), dataOf(i), tagOf(i) read them. */
  private readonly words: Uint32Array;
  private readonly list: Pinned;
  private readonly one: Pinned;
  private readonly oneWords: Uint32Array;
  private readonly c: Calls;

  constructor(
    readonly sys: Ffi,
    readonly maxEvents = 256,
  ) {
    this.c = sys.calls;
    this.fd = this.c.epoll_create1(EPOLL_CLOEXEC);
    if (this.fd < 0) throw new SystemCallError('epoll_create1', sys.errno(), 'no event loop without an epoll set');
    this.list = sys.pin(maxEvents * STRIDE * 4);
    this.words = new Uint32Array(this.list.bytes.buffer, this.list.bytes.byteOffset, maxEvents * STRIDE);
    this.one = sys.pin(16);
    this.oneWords = new Uint32Array(this.one.bytes.buffer, this.one.bytes.byteOffset, 4);
  }

  /** epoll_ctl(ADD or MOD): watch `fd` for `events`, its data `fd` and `tag`. Returns 0, or -1 with errno set. */
  control(op: number, fd: number, events: number, tag = 0): number {
    const w = this.oneWords;
    w[0] = events;
    w[DATA] = fd;
    w[DATA + 1] = tag;
    return this.c.epoll_ctl(this.fd, op, fd, this.one.addr);
  }

  /** Waits up to `timeoutMs` (-1: for ever) for ready descriptors; their number (0 when interrupted). */
  wait(timeoutMs: number): number {
    const n = this.c.epoll_wait(this.fd, this.list.addr, this.maxEvents, timeoutMs);
    return Math.max(0, n);
  }

  flags(i: number): number {
    return this.words[STRIDE * i]!;
  }
  dataOf(i: number): number {
    return this.words[STRIDE * i + DATA]!;
  }
  tagOf(i: number): number {
    return this.words[STRIDE * i + DATA + 1]!;
  }

  close(): void {
    this.c.close(this.fd);
  }
}

/** A socket address in pinned memory, for connect(2) and bind(2). */
export interface SocketAddress {
  family: number;
  addr: number;
  length: number;
}

/** sockaddr_in or sockaddr_in6 of an IP literal (`localhost` is 127.0.0.1) and port; throws on anything else. */
export function socketAddress(sys: Ffi, host: string, port: number): SocketAddress {
  const ip = host === 'localhost' ? '127.0.0.1' : host;
  const family = ip.includes(':') ? AF_INET6 : AF_INET;
  const memory = sys.pin(28); // sockaddr_in6, the larger
  const text = sys.pin(ip.length + 1);
  for (let i = 0; i < ip.length; i++) text.bytes[i] = ip.charCodeAt(i) & 0xff;
  // sin_family (host order), sin_port (network order), then the address: at 4 (IPv4) or at 8 (IPv6, after flowinfo)
  const ok = sys.calls.inet_pton(family, text.addr, memory.addr + (family === AF_INET ? 4 : 8));
  if (ok !== 1) throw new Error(`${host} is not an IP address`);
  memory.bytes[0] = family & 0xff;
  memory.bytes[1] = family >> 8;
  memory.bytes[2] = port >> 8;
  memory.bytes[3] = port & 0xff;
  return { family, addr: memory.addr, length: family === AF_INET ? 16 : 28 };
}

/** The port a socket is bound to (getsockname). */
function boundPort(sys: Ffi, fd: number): number {
  const memory = sys.pin(32);
  memory.bytes[28] = 28; // socklen_t, at the end of the same memory
  sys.calls.getsockname(fd, memory.addr, memory.addr + 28);
  return (memory.bytes[2]! << 8) | memory.bytes[3]!;
}

/**
 * A non-blocking, close-on-exec listening TCP socket on `host:port` with `backlog` passed to listen(2), and the port
 * it got. Errors throw with the call's errno name (EADDRINUSE...) as `code`, as Node's own listen does.
 */
export function listenTcp(sys: Ffi, host: string, port: number, backlog: number): { fd: number; port: number } {
  const address = socketAddress(sys, host, port);
  const c = sys.calls;
  const fd = c.socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SystemCallError('socket', sys.errno(), 'the server cannot listen');
  const one = sys.pin(4);
  one.bytes[0] = 1;
  c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one.addr, 4); // as Node does: a restarted server rebinds at once
  for (const [call, result] of [
    ['bind', () => c.bind(fd, address.addr, address.length)],
    ['listen', () => c.listen(fd, backlog)],
  ] as const) {
    if (result() < 0) {
      const errno = sys.errno();
      c.close(fd);
      throw new SystemCallError(call, errno, `${host}:${port}`);
    }
  }
  return { fd, port: boundPort(sys, fd) };
}

/** The error a socket holds (SO_ERROR): why its non-blocking connect failed; 0 when none. */
export function socketError(sys: Ffi, fd: number, scratch: Pinned): number {
  scratch.bytes.fill(0, 0, 8);
  scratch.bytes[4] = 4; // socklen_t after the int
  sys.calls.getsockopt(fd, SOL_SOCKET, SO_ERROR, scratch.addr, scratch.addr + 4);
  return scratch.bytes[0]! | (scratch.bytes[1]! << 8);
}

/** Copies of `buffers` in memory the FFI can write from, and where each one starts (looked up by the original). */
export function pinnedCopies(sys: Ffi, buffers: readonly Uint8Array[]): Map<Uint8Array, number> {
  const memory = sys.pin(buffers.reduce((n, b) => n + b.length, 0));
  const at = new Map<Uint8Array, number>();
  let offset = 0;
  for (const b of buffers) {
    memory.bytes.set(b, offset);
    at.set(b, memory.addr + offset);
    offset += b.length;
  }
  return at;
}

/** A non-blocking eventfd: another thread writes 8 bytes to it to wake a loop blocked in epoll_wait. */
export function wakeFd(sys: Ffi): number {
  const fd = sys.calls.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw new SystemCallError('eventfd', sys.errno(), 'the loop could not be told to stop');
  return fd;
}

/** Wakes the loop watching the eventfd `fd` (from any thread). */
export function wake(sys: Ffi, fd: number): void {
  const word = sys.pin(8);
  word.bytes[0] = 1;
  sys.calls.write(fd, word.addr, 8);
}

export { ffi, type Ffi, type Pinned };
