// The hosts of ./hosts.ts on another machine (or in another network namespace), reached through the agent there
// (./agent.ts) over a link (./link.ts): every method is the agent's `server.NAME` or `client.NAME` with the same
// arguments and the same answer (checked against its shape by the link), so the engine cannot tell a remote host
// from this one. A call that waits forwards its AbortSignal as a `cancel` of its request. A link that dies or is cut
// mid-call (its agent gone, a missed deadline, a garbled answer) fails that call with one HostError line naming the
// host (the agent on the far side stops everything it started when its input closes); the next server started, or
// the next load, opens the link again and sets the host up as before, so a sweep goes on.
// AgentsClientHost is the client side of `run --client-hosts`: each point's load split over several agents, started
// at one instant and merged exactly (./agents-load.ts); warm-ups stay in the runner's process.
import { HostError } from '../core/errors.js';
import type { Availability } from '../servers/types.js';
import { loadOnAgents } from './agents-load.js';
import type { AgentLink } from './link.js';
import { listeningOn, LocalClientHost } from './local.js';
import { splitLoad } from '../load/merge.js';
import type { ClientHost, LoadSpec, ServerHost, ServerHostSetUp, ServerSpec, StartedServer, WarmRequest } from './hosts.js';

/** One call of an agent's method; `signal` aborting sends it a `cancel` of this request. */
async function callAgent<T>(link: AgentLink, cmd: string, args: unknown[], signal?: AbortSignal): Promise<T> {
  const { id, answer } = link.start<T>(cmd, { args });
  if (!signal) return answer;
  const onAbort = () => void link.request('cancel', { of: id }).catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    return await answer;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A link to one agent that is opened again, when it has died or been cut, at the start of the next piece of work;
 * the set-ups it was given (`setUp`) are given again on the new link, so the host is as it was.
 */
export class Reconnecting {
  private readonly setUps = new Map<string, unknown[]>();

  constructor(
    public link: AgentLink,
    private readonly reopen: () => Promise<AgentLink>,
  ) {}

  get host(): string {
    return this.link.host;
  }

  /** The live link: this one, or a new one to the same host, set up again (then `again` is set). */
  async live(): Promise<{ link: AgentLink; again: boolean }> {
    if (this.link.alive) return { link: this.link, again: false };
    this.link = await this.reopen();
    for (const [cmd, args] of this.setUps) await this.call(cmd, args);
    return { link: this.link, again: true };
  }

  call<T>(cmd: string, args: unknown[] = [], signal?: AbortSignal): Promise<T> {
    return callAgent<T>(this.link, cmd, args, signal);
  }

  /** A set-up (`cmd`: server.setUp, client.setUp) on a live link, recorded to be given again on a new one. */
  async setUp<T>(cmd: string, args: unknown[]): Promise<T> {
    await this.live();
    this.setUps.set(cmd, args);
    return this.call<T>(cmd, args);
  }

  /** A tear-down: forgets the set-up; on a link that died there is nothing left to undo (the agent undid it). */
  tearDown(cmd: string, setUp: string): Promise<string[]> {
    this.setUps.delete(setUp);
    return this.link.alive ? this.call<string[]>(cmd) : Promise.resolve([]);
  }
}

/** Warnings of a remote host name it: the user has several. */
const named = (host: string, warnings: string[]) => warnings.map((w) => `${host}: ${w}`);

/**
 * A started server's URL must be where it was told to listen (the address the clients reach it by), or the URL of a
 * server eventbench does not start: an agent cannot send the clients' load anywhere else.
 */
function checkStartedUrl(host: string, spec: ServerSpec, address: string | undefined, s: StartedServer): void {
  let url: URL | undefined;
  try {
    url = new URL(s.url);
  } catch {
    /* named below */
  }
  const where = url?.hostname.replace(/^\[|\]$/g, '');
  const expected =
    spec.url ?? (address !== undefined ? `http://${address.includes(':') ? `[${address}]` : address}:PORT/` : 'http://HOST:PORT/');
  const ok = spec.url !== undefined ? s.url === spec.url : url?.protocol === 'http:' && (address === undefined || where === address);
  if (!ok) {
    throw new HostError(
      host,
      `its agent broke the protocol: it started ${spec.name} at ${JSON.stringify(s.url)}, expected ${expected}`,
      'garbled',
    );
  }
}

export class RemoteServerHost implements ServerHost {
  /** `address`: where its servers listen (`serve --host`), the address the clients reach it by. */
  constructor(
    private readonly agent: Reconnecting,
    readonly address?: string,
  ) {}

  get host(): string {
    return this.agent.host;
  }

  environment() {
    return this.agent.call<Awaited<ReturnType<ServerHost['environment']>>>('server.environment');
  }

  available(name: string) {
    return this.agent.call<Availability>('server.available', [name]);
  }

  async setUp(o: ServerHostSetUp) {
    const r = await this.agent.setUp<Awaited<ReturnType<ServerHost['setUp']>>>('server.setUp', [o]);
    return { host: r.host, warnings: named(this.host, r.warnings) };
  }

  /** A new server; on a link that died since the last one, the link is opened again and the host set up as before. */
  async start(spec: ServerSpec, signal?: AbortSignal) {
    await this.agent.live();
    const s = await this.agent.call<Awaited<ReturnType<ServerHost['start']>>>('server.start', [listeningOn(spec, this.address)], signal);
    if (s === 'aborted' || !('id' in s)) return s;
    checkStartedUrl(this.host, spec, this.address, s);
    return { ...s, warnings: named(this.host, s.warnings) };
  }

  async throttle(id: string) {
    return named(this.host, await this.agent.call<string[]>('server.throttle', [id]));
  }

  async unthrottle(id: string) {
    return named(this.host, await this.agent.call<string[]>('server.unthrottle', [id]));
  }

  /** JSON has no undefined: a server without a count comes back null, and is read as undefined. */
  async cpuUsage(ids: readonly string[]) {
    const r = await this.agent.call<Record<string, number | null>>('server.cpuUsage', [ids]);
    return Object.fromEntries(ids.map((id) => [id, typeof r[id] === 'number' ? r[id] : undefined]));
  }

  exitReason(id: string, during?: string) {
    return this.agent.call<string | undefined>('server.exitReason', during === undefined ? [id] : [id, during]).then((r) => r ?? undefined);
  }

  async startSampling(id: string) {
    await this.agent.call('server.startSampling', [id]);
  }

  async stopSampling(id: string, loadSpan?: { fromMs: number; toMs: number }) {
    const args = loadSpan ? [id, loadSpan] : [id];
    const r = await this.agent.call<Awaited<ReturnType<ServerHost['stopSampling']>>>('server.stopSampling', args);
    return { sample: r.sample, warnings: named(this.host, r.warnings) };
  }

  async memory(id: string) {
    const m = await this.agent.call<Awaited<ReturnType<ServerHost['memory']>>>('server.memory', [id]);
    // JSON has no Infinity: a host whose MemAvailable could not be read answers null.
    return { ...m, hostAvailableBytes: m.hostAvailableBytes ?? Infinity };
  }

  connections(id: string) {
    return this.agent.call<Awaited<ReturnType<ServerHost['connections']>>>('server.connections', [id]);
  }

  /** Stops a server; on a link that died, there is nothing left to stop (the agent stopped it when its input closed). */
  async stop(id: string) {
    if (!this.agent.link.alive) return [];
    return named(this.host, await this.agent.call<string[]>('server.stop', [id]));
  }

  async tearDown() {
    return named(this.host, await this.agent.tearDown('server.tearDown', 'server.setUp'));
  }
}

export class RemoteClientHost implements ClientHost {
  constructor(private readonly agent: Reconnecting) {}

  get host(): string {
    return this.agent.host;
  }

  environment() {
    return this.agent.call<Awaited<ReturnType<ClientHost['environment']>>>('client.environment');
  }

  async setUp(o: { cpus?: string }) {
    const r = await this.agent.setUp<Awaited<ReturnType<ClientHost['setUp']>>>('client.setUp', [o]);
    return { pinned: r.pinned, warnings: named(this.host, r.warnings) };
  }

  /** Opens the link again if it died (and pins as before); the work that follows then runs on the new one. */
  async live(): Promise<void> {
    await this.agent.live();
  }

  async warm(o: WarmRequest, signal?: AbortSignal) {
    await this.live();
    return this.agent.call<Awaited<ReturnType<ClientHost['warm']>>>('client.warm', [o], signal);
  }

  async load(spec: LoadSpec, signal?: AbortSignal) {
    await this.live();
    return this.agent.call<Awaited<ReturnType<ClientHost['load']>>>('client.load', [spec], signal);
  }

  async tearDown() {
    return named(this.host, await this.agent.tearDown('client.tearDown', 'client.setUp'));
  }
}

/**
 * `run --client-hosts`: the client's host as several agents. Each point's closed loop is split over them (shares that
 * add up to l, -n and --trim), all started at one instant scheduled on the runner's clock from offsets measured
 * just before, and merged from their per-request records into one result that names each agent's share, clock
 * offset and bound (LoadResult.agents). The warm-ups, which need no split, run in the runner's own process.
 */
export class AgentsClientHost implements ClientHost {
  private readonly here = new LocalClientHost();
  private readonly clients: RemoteClientHost[];

  constructor(private readonly agents: Reconnecting[]) {
    this.clients = agents.map((a) => new RemoteClientHost(a));
  }

  environment() {
    return this.here.environment();
  }

  /** Pins the runner's warm-ups and each agent (whose loads run in its own process) to `cpus` on its own host. */
  async setUp(o: { cpus?: string }) {
    const all = [await this.here.setUp(o), ...(await Promise.all(this.clients.map((c) => c.setUp(o))))];
    return { pinned: all.every((r) => r.pinned), warnings: all.flatMap((r) => r.warnings) };
  }

  warm(o: WarmRequest, signal?: AbortSignal) {
    return this.here.warm(o, signal);
  }

  async load(spec: LoadSpec, signal?: AbortSignal) {
    const c = spec.closed;
    if (!c) return { error: 'only a closed loop can be split over client hosts (--client-hosts); this load is not one' };
    const limit = new AbortController();
    const onAbort = () => limit.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const hung = setTimeout(onAbort, spec.limitS * 1000);
    try {
      for (const client of this.clients) await client.live();
      const shares = splitLoad({ concurrency: c.concurrency, requests: c.requests, trim: c.trim }, this.agents.length, '--client-hosts');
      const { concurrency, requests, durationS, timeoutS, trim, transport } = c;
      const options = { url: spec.url, concurrency, requests, durationS, timeoutS, trim, ...(transport ? { transport } : {}) };
      const { result } = await loadOnAgents(
        this.agents.map((a) => a.link),
        shares,
        options,
        limit.signal,
      );
      if (signal?.aborted) return { aborted: true as const };
      if (limit.signal.aborted) return { error: `the client hosts had not finished after ${spec.limitS} s: stopped them` };
      return { result };
    } catch (err) {
      // A client host's fault (its agent gone, stuck, garbled) goes up as one: the engine retries the point on a fresh link.
      if (signal?.aborted) return { aborted: true as const };
      throw err;
    } finally {
      clearTimeout(hung);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async tearDown() {
    const warnings = await this.here.tearDown();
    for (const c of this.clients) warnings.push(...(await c.tearDown().catch((err: Error) => [err.message])));
    return warnings;
  }
}
