// The system calls an event loop makes itself (sockets, epoll(7), reads and writes), bound through the FFI of the
// runtime it runs under: koffi under Node, bun:ffi under Bun, Deno.dlopen under Deno. koffi also loads under Bun and
// Deno, through their Node-API, but there a call costs about twice what their own FFI costs (getpid: 390 ns against
// 204 under Bun, 312 against 209 under Deno, measured here), and the loop makes five calls per connection.
// Every pointer crosses as a plain number, the address of memory that never moves (pin()): the cheapest argument
// each FFI takes, with no typed array to look into per call. Linux only (syscalls.ts holds Linux's constants).
import { createRequire } from 'node:module';
import { cLibrary } from './libc.js';

/** The calls, with C's own names and arguments; a pointer is an address from pin(). Each returns C's int. */
export interface Calls {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: number, addrLen: number): number;
  bind(fd: number, addr: number, addrLen: number): number;
  listen(fd: number, backlog: number): number;
  getsockname(fd: number, addr: number, addrLenAddr: number): number;
  getsockopt(fd: number, level: number, name: number, value: number, valueLenAddr: number): number;
  setsockopt(fd: number, level: number, name: number, value: number, valueLen: number): number;
  accept4(fd: number, addr: number, addrLenAddr: number, flags: number): number;
  read(fd: number, buf: number, count: number): number;
  write(fd: number, buf: number, count: number): number;
  close(fd: number): number;
  shutdown(fd: number, how: number): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: number): number;
  epoll_wait(epfd: number, events: number, maxEvents: number, timeoutMs: number): number;
  eventfd(initval: number, flags: number): number;
  inet_pton(af: number, src: number, dst: number): number;
}

/** Memory the FFI may write into: its address for the calls, its bytes for JavaScript. */
export interface Pinned {
  addr: number;
  bytes: Uint8Array;
}

export interface Ffi {
  /** Which FFI binds the calls. */
  name: 'koffi' | 'bun:ffi' | 'Deno.dlopen';
  calls: Calls;
  /** errno of the last failed call on this thread. */
  errno(): number;
  /** `bytes` of zeroed memory that never moves and is never freed (allocate once, reuse). */
  pin(bytes: number): Pinned;
}

type Kind = 'i32' | 'ptr' | 'size';
/** Each call's arguments; every one returns an int (read and write's ssize_t fits: counts stay under 2 GiB). */
const SIGNATURES: Record<keyof Calls, Kind[]> = {
  socket: ['i32', 'i32', 'i32'],
  connect: ['i32', 'ptr', 'i32'],
  bind: ['i32', 'ptr', 'i32'],
  listen: ['i32', 'i32'],
  getsockname: ['i32', 'ptr', 'ptr'],
  getsockopt: ['i32', 'i32', 'i32', 'ptr', 'ptr'],
  setsockopt: ['i32', 'i32', 'i32', 'ptr', 'i32'],
  accept4: ['i32', 'ptr', 'ptr', 'i32'],
  read: ['i32', 'ptr', 'size'],
  write: ['i32', 'ptr', 'size'],
  close: ['i32'],
  shutdown: ['i32', 'i32'],
  epoll_create1: ['i32'],
  epoll_ctl: ['i32', 'i32', 'i32', 'ptr'],
  epoll_wait: ['i32', 'ptr', 'i32', 'i32'],
  eventfd: ['i32', 'i32'],
  inet_pton: ['i32', 'ptr', 'ptr'],
};
const NAMES = Object.keys(SIGNATURES) as (keyof Calls)[];

// biome-ignore lint/suspicious/noExplicitAny: each runtime's FFI module has its own types, absent under Node
type Untyped = any;

function koffiFfi(): Ffi {
  const { koffi, c } = cLibrary();
  const C: Record<Kind, string> = { i32: 'int', ptr: 'intptr_t', size: 'uintptr_t' };
  const calls = Object.fromEntries(
    NAMES.map((name) => [name, c.func(`int ${name}(${SIGNATURES[name].map((k) => C[k]).join(', ')})`)]),
  ) as unknown as Calls;
  const held: unknown[] = [];
  return {
    name: 'koffi',
    calls,
    errno: () => koffi.errno(),
    pin(bytes) {
      const memory = koffi.alloc('uint8_t', bytes);
      held.push(memory);
      const view = new Uint8Array(koffi.view(memory, bytes));
      view.fill(0);
      return { addr: Number(koffi.address(memory)), bytes: view };
    },
  };
}

function bunFfi(): Ffi {
  const ffi: Untyped = createRequire(import.meta.url)('bun:ffi');
  const B: Record<Kind, string> = { i32: 'i32', ptr: 'ptr', size: 'u64' };
  const symbols = Object.fromEntries(NAMES.map((name) => [name, { args: SIGNATURES[name].map((k) => B[k]), returns: 'i32' }]));
  const lib = ffi.dlopen('libc.so.6', { ...symbols, __errno_location: { args: [], returns: 'ptr' } });
  const errno = new Int32Array(ffi.toArrayBuffer(lib.symbols.__errno_location(), 0, 4));
  const held: Uint8Array[] = [];
  return {
    name: 'bun:ffi',
    calls: lib.symbols as Calls,
    errno: () => errno[0]!,
    pin(bytes) {
      const view = new Uint8Array(new ArrayBuffer(bytes)); // its own ArrayBuffer: a small typed array keeps its bytes in the object, moved out when .buffer is first read
      held.push(view);
      return { addr: ffi.ptr(view) as number, bytes: view };
    },
  };
}

function denoFfi(deno: Untyped): Ffi {
  const D: Record<Kind, string> = { i32: 'i32', ptr: 'usize', size: 'usize' };
  const symbols = Object.fromEntries(NAMES.map((name) => [name, { parameters: SIGNATURES[name].map((k) => D[k]), result: 'i32' }]));
  const lib = deno.dlopen('libc.so.6', { ...symbols, __errno_location: { parameters: [], result: 'pointer' } });
  const errno = new Int32Array(deno.UnsafePointerView.getArrayBuffer(lib.symbols.__errno_location(), 4));
  const held: Uint8Array[] = [];
  return {
    name: 'Deno.dlopen',
    calls: lib.symbols as Calls,
    errno: () => errno[0]!,
    pin(bytes) {
      const view = new Uint8Array(new ArrayBuffer(bytes)); // its own ArrayBuffer: a small typed array keeps its bytes in the object, moved out when .buffer is first read
      held.push(view);
      return { addr: Number(deno.UnsafePointer.value(deno.UnsafePointer.of(view))), bytes: view };
    },
  };
}

let loaded: Ffi | undefined;

/** The calls through this runtime's FFI, bound on first use (this thread's own: each worker binds its own). */
export function ffi(): Ffi {
  if (loaded) return loaded;
  if (process.platform !== 'linux') throw new Error(`epoll(7) is Linux's, this is ${process.platform}`);
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  loaded = g.Bun !== undefined ? bunFfi() : g.Deno !== undefined ? denoFfi(g.Deno) : koffiFfi();
  return loaded;
}
