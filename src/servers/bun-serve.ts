// The `bun-serve` row: Bun's own HTTP server (Bun.serve, its parser and event loop in Zig over uSockets), standing
// beside nginx as a production event-driven server, serving page.ts's page with request.ts's routing
// (runtime-serve.ts). It runs only under Bun; `eventbench serve bun-serve` starts it there.
import type { ServeOptions, ServerModel } from './types.js';
import { buildResponses } from './page.js';
import { fetchHandler } from './runtime-serve.js';
import { effectiveBacklog } from './listen.js';
import { runtimeAvailable } from './runtime.js';

interface BunServer {
  port: number;
  hostname: string;
  stop(closeActive?: boolean): Promise<void> | void;
}
interface BunGlobal {
  serve(o: object): BunServer;
}

async function start(options: ServeOptions) {
  const Bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (!Bun) throw new Error('bun-serve runs only under Bun');
  const handler = fetchHandler(buildResponses(options.pageBytes));
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    // Bun's idle timeout is whole seconds (1..255): the closest to ours, never 0 (which would disable it).
    idleTimeout: Math.min(255, Math.max(1, Math.round(options.idleTimeoutMs / 1000))),
    fetch: handler,
    error: () => new Response('400 Bad Request\n', { status: 400 }),
  });
  const { backlog, notes } = effectiveBacklog(options.backlog);
  const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname;
  return {
    url: `http://${host}:${server.port}/`,
    effectiveBacklog: backlog,
    notes: [...notes, 'Bun.serve chooses its own listen backlog; --backlog is not passed to it'],
    close: async () => {
      await server.stop(true);
    },
  };
}

export const bunServe: ServerModel = {
  name: 'bun-serve',
  family: 'typescript',
  paperRow: null,
  connection: 'event',
  slow: false,
  runtimes: { bun: true, node: "Bun.serve is Bun's own server", deno: "Bun.serve is Bun's own server" },
  // Measured with Bun 1.4.5: its parser answers a malformed request line with its own 4xx, its headers are its own.
  conformance: {
    ownBytes: true,
    any4xx: true,
    ownIdleClose: {
      withinS: 20,
      why: "Bun.serve's idleTimeout starts with a request; Bun closes a silent client after about 12 s of its own",
    },
  },
  summary: "a runtime's own event server: Bun.serve (Bun's HTTP parser and loop), same page and routing",
  available: () => runtimeAvailable('bun'),
  start,
};
