// The `deno-serve` row: Deno's own HTTP server (Deno.serve, hyper over tokio in Rust), standing beside nginx as a
// production event-driven server, serving page.ts's page with request.ts's routing (runtime-serve.ts). It runs only
// under Deno; `eventbench serve deno-serve` starts it there.
import type { ServeOptions, ServerModel } from './types.js';
import { buildResponses } from './page.js';
import { fetchHandler } from './runtime-serve.js';
import { effectiveBacklog } from './listen.js';
import { runtimeAvailable } from './runtime.js';

interface DenoServer {
  addr: { hostname: string; port: number };
  finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoGlobal {
  serve(o: object, handler: (req: Request) => Response): DenoServer;
}

async function start(options: ServeOptions) {
  const Deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  if (!Deno) throw new Error('deno-serve runs only under Deno');
  const handler = fetchHandler(buildResponses(options.pageBytes));
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const server = Deno.serve(
    {
      hostname: options.host,
      port: options.port,
      tcpBacklog: options.backlog,
      onListen: () => ready(),
      onError: () => new Response('400 Bad Request\n', { status: 400 }),
    },
    handler,
  );
  await listening;
  const { backlog, notes } = effectiveBacklog(options.backlog);
  const host = server.addr.hostname.includes(':') ? `[${server.addr.hostname}]` : server.addr.hostname;
  return {
    url: `http://${host}:${server.addr.port}/`,
    effectiveBacklog: backlog,
    notes: [...notes, 'Deno.serve has no idle timeout to set (Deno 2.9): --idle-timeout is not applied, a silent client stays open'],
    close: async () => {
      await server.shutdown();
    },
  };
}

export const denoServe: ServerModel = {
  name: 'deno-serve',
  family: 'typescript',
  paperRow: null,
  connection: 'event',
  slow: false,
  runtimes: { deno: true, node: "Deno.serve is Deno's own server", bun: "Deno.serve is Deno's own server" },
  // Measured with Deno 2.9.6: its own 4xx and headers, and no head limit, header-read timeout or idle timeout to set.
  conformance: {
    ownBytes: true,
    any4xx: true,
    limits: {
      'keep-alive':
        'Deno.serve (Deno 2.9.6) passes on our "Connection: close" in an HTTP/1.1 answer but keeps the connection open ' +
        '(3 s measured): the client has to close it; an HTTP/1.0 request, what the load generator sends, is closed',
      'silent-client': 'Deno.serve has no idle timeout to set in Deno 2.9: a silent client stays open',
      'unfinished-head':
        'Deno.serve has no head limit or header-read timeout to set in Deno 2.9: an unfinished 9 KiB head is neither answered nor closed',
    },
  },
  summary: "a runtime's own event server: Deno.serve (hyper in Rust), same page and routing",
  available: () => runtimeAvailable('deno'),
  start,
};
