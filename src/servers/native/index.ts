// The paper's C toy servers (fork, NPTL, Pth, ST), a hand-written epoll loop, and today's answers to the paper's
// rows (C++20 coroutines, io_uring, goroutines), as server models: each is compiled on first use (build.ts) and run
// as its own process group, answering like the TypeScript models.
import { readFileSync } from 'node:fs';
import type { Availability, Conformance, ConnectionKind, RunningServer, ServeOptions, ServerModel } from '../types.js';
import { cappedBacklog, spawnServer, stopServer, urlOf, waitForLine } from '../spawned.js';
import { buildNative, nativeAvailability, type NativeSource } from './build.js';
import { asRoot } from '../../core/format.js';

/** How a model is called and what it answers; its name is native-SOURCE unless given. */
interface NativeModelInfo {
  name?: string;
  paperRow: string | null;
  /** How it holds a connection (src/servers/types.ts). */
  connection: ConnectionKind;
  summary: string;
  /** What the host must allow besides the build (io_uring), checked after it. */
  allowed?: () => Availability;
  /** Where it departs from our request rules (src/servers/types.ts). */
  conformance?: Conformance;
}

function nativeModel(source: NativeSource, info: NativeModelInfo): ServerModel {
  const name = info.name ?? `native-${source.name}`;
  const { paperRow, connection, summary } = info;
  return {
    name,
    family: 'native',
    paperRow,
    connection,
    slow: false,
    ...(info.conformance ? { conformance: info.conformance } : {}),
    summary,
    available: async () => {
      const built = await nativeAvailability(source);
      return built.ok && info.allowed ? info.allowed() : built;
    },
    async start(options: ServeOptions): Promise<RunningServer> {
      const binary = await buildNative(source);
      const server = spawnServer(binary, [
        '--host',
        options.host,
        '--port',
        String(options.port),
        '--backlog',
        String(options.backlog),
        '--page-bytes',
        String(options.pageBytes),
        '--idle-timeout-ms',
        String(options.idleTimeoutMs),
      ]);
      let port: number;
      try {
        port = Number((await waitForLine(server, /^port (\d+)$/m, name))[1]);
      } catch (err) {
        await stopServer(server);
        throw err;
      }
      const effectiveBacklog = cappedBacklog(options.backlog);
      const notes =
        effectiveBacklog < options.backlog
          ? [`${name}: listen backlog ${options.backlog} is capped by net.core.somaxconn to ${effectiveBacklog}`]
          : [];
      if (options.workers !== undefined || options.maxLive !== undefined)
        notes.push(
          `${name}: a thread or process per connection, as in the paper, without a pool or a cap: --workers and --max-live are ignored`,
        );
      if (source.name === 'pth')
        notes.push('native-pth: GNU Pth waits with select(), so it serves at most about 1000 connections at once (FD_SETSIZE 1024)');
      return { url: urlOf(options.host, port), effectiveBacklog, notes, close: () => stopServer(server) };
    },
  };
}

/** io_uring may be switched off (kernel.io_uring_disabled: 1 allows only a group, 2 nobody; Linux 6.6 and later). */
export function ioUringAllowed(readDisabled = () => readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8')): Availability {
  let disabled = 0;
  try {
    disabled = Number(readDisabled().trim());
  } catch {
    return { ok: true }; /* an older kernel has no such switch */
  }
  if (disabled === 0 || (disabled === 1 && process.getuid?.() === 0)) return { ok: true };
  const reason = `io_uring is disabled on this kernel (kernel.io_uring_disabled = ${disabled})`;
  return { ok: false, reason, hint: `allow it with \`${asRoot('sysctl kernel.io_uring_disabled=0')}\`` };
}

export const nativeModels: ServerModel[] = [
  nativeModel(
    { name: 'fork', with: ['blocking.c'], libraries: [] },
    { paperRow: 'fork', connection: 'process', summary: 'a Unix process per connection (fork), in C' },
  ),
  nativeModel(
    { name: 'pthreads', with: ['blocking.c'], libraries: ['-pthread'] },
    { paperRow: 'NPTL', connection: 'thread', summary: 'a kernel thread per connection (NPTL pthreads), in C' },
  ),
  nativeModel(
    {
      name: 'pth',
      with: ['blocking.c'],
      libraries: ['-lpth'],
      needs: { what: 'GNU Pth (pth.h, libpth)', header: 'pth.h', library: 'pth', debianPackage: 'libpth-dev' },
    },
    { paperRow: 'Pth', connection: 'user-thread', summary: 'a GNU Pth cooperative user-space thread per connection, in C' },
  ),
  nativeModel(
    {
      name: 'st',
      libraries: ['-lst'],
      needs: { what: 'State Threads (st.h, libst)', header: 'st.h', library: 'st', debianPackage: 'libst-dev' },
    },
    { paperRow: 'ST', connection: 'user-thread', summary: 'a State Threads cooperative user-space thread per connection, in C' },
  ),
  nativeModel(
    { name: 'epoll', with: ['eventloop.c'], libraries: [] },
    {
      paperRow: null,
      connection: 'event',
      summary: 'a hand-written single-threaded epoll event loop in C: the floor the others are measured against',
    },
  ),
  nativeModel(
    { name: 'coro', language: 'c++', with: ['eventloop.c'], libraries: [] },
    {
      paperRow: 'CPC',
      connection: 'user-thread',
      summary: "a C++20 coroutine per connection over native-epoll's own loop: the compiler makes the state machine",
    },
  ),
  nativeModel(
    {
      name: 'uring',
      with: ['eventloop.c'],
      libraries: ['-luring'],
      needs: { what: 'liburing (liburing.h)', header: 'liburing.h', library: 'uring', debianPackage: 'liburing-dev' },
    },
    {
      paperRow: 'completion',
      connection: 'event',
      summary: 'io_uring in C: accept, recv and send submitted and completed, no readiness polling',
      allowed: () => ioUringAllowed(),
    },
  ),
  nativeModel(
    { name: 'go-nethttp', language: 'go', libraries: [] },
    {
      name: 'go-nethttp',
      paperRow: 'ST',
      connection: 'user-thread',
      summary: "Go's net/http: a goroutine per connection, GOMAXPROCS=1",
      // net/http writes its own headers (Date, Content-Type) and its own 400 and 431 bodies.
      conformance: { ownBytes: true },
    },
  ),
  nativeModel(
    { name: 'go-raw', language: 'go', libraries: [] },
    {
      name: 'go-raw',
      paperRow: 'ST',
      connection: 'user-thread',
      summary: "a goroutine per connection over net.Listener, common.c's request rules, GOMAXPROCS=1",
    },
  ),
];
