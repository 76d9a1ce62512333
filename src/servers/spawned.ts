// Servers that run as separate programs (the native C toy servers and the production servers): start one in a
// process group of its own, wait until it answers, and stop the whole group, children included, on close.
import { startChild, type Child } from '../core/child.js';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { ServerError } from '../core/errors.js';
import { cappedBacklog } from '../core/backlog.js';
import { allProcStats, groupMembers, signalProcess } from '../core/proc.js';

/** How long a server gets to exit after SIGTERM before it gets SIGKILL, ms. */
export const STOP_GRACE_MS = 5000;

export interface SpawnedServer extends Child {
  /** Processes of the server's group, not counting the guard (see spawnServer). */
  processes(): number;
}

/** $0 of the guard shell, which the sampler recognizes and leaves out of a server's memory and process count. */
export const GUARD_NAME = 'eventbench-guard';
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
/**
 * The guard runs the server and waits for it. util-linux's setpriv asks the kernel for SIGUSR1 to the guard when
 * its parent dies (a `serve` killed with -9 runs no clean-up), and the guard then SIGKILLs the whole group: the
 * server and the workers it forked, which a parent-death signal on the server alone would leave behind, and the
 * group the server made for itself if it did (mini_httpd calls setsid(2) even in the foreground). SIGTERM from
 * stopServer reaches the server through the group; the guard ignores it and exits with the server's status.
 */
const GUARD = `"$@" & pid=$!; trap '' TERM INT; trap 'kill -KILL -$pid 2>/dev/null; kill -KILL 0' USR1; wait $pid; exit $?`;

/**
 * Starts `command` in a new process group (so close() reaches every process it forks), in `cwd` when given. With
 * `dieWithParent` (servers that do not watch their parent themselves), the group is killed when this process dies, however.
 */
export function spawnServer(command: string, args: string[], env?: NodeJS.ProcessEnv, dieWithParent = false, cwd?: string): SpawnedServer {
  const [cmd, argv] =
    dieWithParent && SETPRIV
      ? [SETPRIV, ['--pdeathsig', 'SIGUSR1', '--', '/bin/sh', '-c', GUARD, GUARD_NAME, command, ...args]]
      : [command, args];
  const child = startChild(cmd, argv, { ...(env ? { env } : {}), ...(cwd ? { cwd } : {}) });
  const guarded = cmd !== command;
  const processes = () => serverGroups(child.pid).reduce((n, g) => n + groupMembers(g).length, 0) - (guarded ? 1 : 0);
  return { ...child, processes };
}

/**
 * The process groups of a server started by spawnServer: the group it was started in, and one that a child of its
 * leader made for itself (setsid(2) or setpgid(2): mini_httpd leaves the guard's group so), with whatever it forks.
 */
export function serverGroups(leader: number): number[] {
  const own = allProcStats()
    .filter((s) => s.ppid === leader && s.pgid === s.pid && s.state !== 'Z' && s.state !== 'X')
    .map((s) => s.pid);
  return [leader, ...own];
}

/** Waits until the server prints a line matching `pattern` on stdout; fails if it exits or takes too long. */
export function waitForLine(server: SpawnedServer, pattern: RegExp, what: string, timeoutMs = 10_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => finish(new ServerError(`${what} printed no ${pattern} within ${timeoutMs} ms: ${server.output().trim()}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = pattern.exec(seen);
      if (match) finish(undefined, match);
    };
    const finish = (err?: Error, match?: RegExpExecArray) => {
      clearTimeout(timer);
      server.proc.stdout?.off('data', onData);
      if (err) reject(err);
      else resolve(match as RegExpExecArray);
    };
    server.proc.stdout?.on('data', onData);
    void server.exited.then(() =>
      finish(new ServerError(`${what} exited before it was ready: ${server.output().trim() || '(no output)'}`)),
    );
  });
}

/** One HTTP/1.0 GET of `path`; resolves with the status code, or rejects on a network error. */
export function probe(host: string, port: number, timeoutMs = 2000, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let got = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timed out')));
    socket.on('connect', () => socket.end(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`));
    // The status line is the answer: a server that answers and never closes (a leak) still answers.
    const status = () => /^HTTP\/\d\.\d (\d{3})[ \r]/.exec(got);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (status()) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const s = status();
      if (s) resolve(Number(s[1]));
      else reject(new Error(`no HTTP answer (${JSON.stringify(got.slice(0, 40))})`));
    });
  });
}

/** Polls until the server answers GET / with 200; fails if it answers otherwise, exits first or takes too long. */
export async function waitUntilAnswers(server: SpawnedServer, host: string, port: number, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (server.hasExited()) throw new ServerError(`${what} exited before it answered: ${server.output().trim() || '(no output)'}`);
    let status: number | undefined;
    try {
      status = await probe(host, port);
    } catch (err) {
      last = (err as Error).message;
    }
    if (status === 200) return;
    if (status !== undefined) throw new ServerError(`${what} answered GET / with ${status} instead of 200`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ServerError(`${what} did not answer on ${host}:${port} within ${timeoutMs} ms (${last})`);
}

export { groupMembers };

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  signalProcess(-pgid, signal);
}

async function groupsGone(groups: readonly number[], withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (groups.every((g) => groupMembers(g).length === 0)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGTERM to its groups (serverGroups), SIGKILL after `graceMs`; resolves once no process of them is left. */
export async function stopServer(server: SpawnedServer, graceMs = STOP_GRACE_MS): Promise<void> {
  if (server.pid <= 0) return;
  const groups = serverGroups(server.pid);
  for (const g of groups) signalGroup(g, 'SIGTERM');
  // The grace timer is cleared once the leader is gone: left pending, it kept `serve` alive for graceMs after close.
  let grace: NodeJS.Timeout | undefined;
  const leaderGone = await Promise.race([
    server.exited.then(() => true),
    new Promise<boolean>((r) => {
      grace = setTimeout(() => r(false), graceMs);
    }),
  ]);
  clearTimeout(grace);
  if (leaderGone && (await groupsGone(groups, graceMs))) return;
  for (const g of groups) signalGroup(g, 'SIGKILL');
  await server.exited;
  if (!(await groupsGone(groups, 2000)))
    throw new ServerError(`processes ${groups.flatMap(groupMembers).join(', ')} of groups ${groups.join(', ')} survived SIGKILL`);
}

/**
 * A port that was free a moment ago, for servers that cannot bind port 0 and report it: any free one for
 * `port` 0, else `port` itself if it is free (rejects with EADDRINUSE if not, before a server that could
 * not bind it is mistaken for the one already answering there).
 */
export function freePort(host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const probeServer = net.createServer();
    probeServer.on('error', reject);
    probeServer.listen({ host, port, exclusive: true }, () => {
      const address = probeServer.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      probeServer.close(() => resolve(bound));
    });
  });
}

export { cappedBacklog };

/** URL of a host and port, with brackets around an IPv6 address. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}
