// The paper's C toy servers (fork, NPTL, Pth, ST) and a hand-written epoll loop, as server models: each is
// compiled on first use (build.ts) and run as its own process group, answering exactly like the TypeScript models.
import type { RunningServer, ServeOptions, ServerModel } from '../types.js';
import { cappedBacklog, spawnServer, stopServer, urlOf, waitForLine } from '../spawned.js';
import { buildNative, nativeAvailability, type NativeSource } from './build.js';

function nativeModel(source: NativeSource, paperRow: string | undefined, summary: string): ServerModel {
  const name = `native-${source.name}`;
  return {
    name,
    family: 'native',
    ...(paperRow ? { paperRow } : {}),
    summary,
    available: () => nativeAvailability(source),
    async start(options: ServeOptions): Promise<RunningServer> {
      const binary = await buildNative(source);
      const server = spawnServer(binary, [
        '--host', options.host,
        '--port', String(options.port),
        '--backlog', String(options.backlog),
        '--page-bytes', String(options.pageBytes),
        '--idle-timeout-ms', String(options.idleTimeoutMs),
      ]);
      let port: number;
      try {
        port = Number((await waitForLine(server, /^port (\d+)$/m, name))[1]);
      } catch (err) {
        await stopServer(server);
        throw err;
      }
      const effectiveBacklog = cappedBacklog(options.backlog);
      const notes = effectiveBacklog < options.backlog ? [`${name}: listen backlog ${options.backlog} is capped by net.core.somaxconn to ${effectiveBacklog}`] : [];
      if (options.workers !== undefined || options.maxLive !== undefined) notes.push(`${name}: a thread or process per connection, as in the paper, without a pool or a cap: --workers and --max-live are ignored`);
      if (source.name === 'pth') notes.push('native-pth: GNU Pth waits with select(), so it serves at most about 1000 connections at once (FD_SETSIZE 1024)');
      return { url: urlOf(options.host, port), effectiveBacklog, notes, close: () => stopServer(server) };
    },
  };
}

export const nativeModels: ServerModel[] = [
  nativeModel({ name: 'fork', libraries: [] }, 'fork', 'a Unix process per connection (fork), in C'),
  nativeModel({ name: 'pthreads', libraries: ['-pthread'] }, 'NPTL', 'a kernel thread per connection (NPTL pthreads), in C'),
  nativeModel(
    { name: 'pth', libraries: ['-lpth'], needs: { what: 'GNU Pth (pth.h, libpth)', header: 'pth.h', library: 'pth', debianPackage: 'libpth-dev' } },
    'Pth', 'a GNU Pth cooperative user-space thread per connection, in C'),
  nativeModel(
    { name: 'st', libraries: ['-lst'], needs: { what: 'State Threads (st.h, libst)', header: 'st.h', library: 'st', debianPackage: 'libst-dev' } },
    'ST', 'a State Threads cooperative user-space thread per connection, in C'),
  nativeModel({ name: 'epoll', with: ['eventloop.c'], libraries: [] }, undefined, 'a hand-written single-threaded epoll event loop in C: the floor the others are measured against'),
];
