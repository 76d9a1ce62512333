// One closed-loop load over several agents (`eventbench load --agents local,ssh://a,ssh://b`): open a link to each,
// measure each one's clock offset, split the load (load/merge.ts), tell every agent to start its share at one
// instant on its own clock, and merge what they send back into one result. If an agent or its link fails mid-load,
// the others are told to stop, every link is closed (so nothing keeps running on any host), and the load fails
// with that agent's one line. A cancel (Ctrl-C) stops every agent and merges what each had measured.
import { environment } from '../core/environment.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { HostError, UsageError } from '../core/errors.js';
import { resolveLoadOptions, type LoadInput } from '../load/index.js';
import { mergeAgentLoads, splitLoad, type AgentPart, type Share } from '../load/merge.js';
import { writeRaw } from '../load/raw.js';
import { decodeRecords, type EncodedRecords, type Records, type RecordsData } from '../load/records.js';
import type { LoadResult } from '../load/types.js';
import type { AgentLoadAnswer, AgentLoadOptions } from './protocol.js';
import { AgentLinks, parseHostSpec, type AgentLink, type LinkOptions } from './link.js';

/** The agents start this long after the last clock probe at least, ms: time for the request to reach every one. */
const START_MARGIN_MS = 300;
/** ... and at least this many of the slowest round trip. */
const START_MARGIN_RTTS = 10;
/** Agents told to stop get this long to answer with what they measured, ms. */
const CANCEL_GRACE_MS = 15_000;

export interface AgentsLoadInput extends LoadInput, LinkOptions {
  /** Where the agents run: "local" or "ssh://[user@]host[:port]", one per agent (a host may appear twice). */
  agents: string[];
  /** Called with a line of progress for the user (connecting, clock offsets). */
  onNote?: (line: string) => void;
}

/** Checks everything before any host is reached: the hosts' form, the load's options, and the split. */
export function checkAgentsLoad(input: AgentsLoadInput): { shares: Share[]; options: ReturnType<typeof resolveLoadOptions> } {
  if (input.agents.length === 0) throw new UsageError('--agents', '', 'expected local or ssh://[user@]host[:port], comma-separated');
  for (const a of input.agents) parseHostSpec(a);
  const { signal: _s, onProgress: _p, ...plain } = input;
  const options = resolveLoadOptions(plain);
  if (options.engine !== 'eventbench') {
    throw new UsageError(
      '--engine',
      options.engine,
      'agents merge per-request records, which only the eventbench engine keeps',
      'drop --engine ab',
    );
  }
  const shares = splitLoad({ concurrency: options.concurrency, requests: options.requests, trim: options.trim }, input.agents.length);
  const least = Math.min(...shares.map((s) => s.concurrency));
  if (options.workers > least) {
    throw new UsageError(
      'workers (--workers)',
      options.workers,
      `the limit with ${input.agents.length} agents is each agent's share of -c (${least})`,
    );
  }
  return { shares, options };
}

export async function loadOverAgents(input: AgentsLoadInput): Promise<{ result: LoadResult; records: Records }> {
  const { shares, options } = checkAgentsLoad(input);
  const note = input.onNote ?? (() => {});
  // Told to stop, the agents answer with what they measured: they get CANCEL_GRACE_MS to, then their links are cut.
  const links = new AgentLinks({ ...input, abortGraceMs: CANCEL_GRACE_MS });
  try {
    note(`connecting to ${input.agents.join(', ')}`);
    const opened = await links.open(input.agents.map((a) => parseHostSpec(a)));
    const merged = await loadOnAgents(opened, shares, loadFields(options), input.signal, note);
    if (options.rawFile) await writeRaw(options.rawFile, merged.records);
    return merged;
  } finally {
    await links.closeAll();
  }
}

/**
 * One load over agents already reached: each one's clock offset measured now, every share started at one instant
 * on the runner's clock, and the answers merged. `signal` stops them all (they answer with what they measured).
 */
export async function loadOnAgents(
  links: AgentLink[],
  shares: Share[],
  options: AgentLoadOptions,
  signal?: AbortSignal,
  note: (line: string) => void = () => {},
): Promise<{ result: LoadResult; records: Records }> {
  const clocks = await Promise.all(links.map((l) => l.clock()));
  for (const [k, l] of links.entries()) {
    note(`${l.host} (${l.hello!.hostname}): clock offset ${clocks[k]!.offsetMs.toFixed(3)} ms ± ${clocks[k]!.boundMs.toFixed(3)} ms`);
  }
  const marginMs = Math.max(START_MARGIN_MS, START_MARGIN_RTTS * Math.max(...clocks.map((c) => c.rttMs)));
  const scheduledMs = performance.now() + marginMs;
  const scheduledAt = new Date(Date.now() + marginMs).toISOString();
  const answers = await runShares(
    links,
    shares.map((share, k) => ({
      options: { ...options, concurrency: share.concurrency, requests: share.requests, trim: share.trim },
      startAtMs: scheduledMs + clocks[k]!.offsetMs,
    })),
    signal,
  );
  const parts: AgentPart[] = answers.map((a, k) => ({
    host: links[k]!.host,
    hostname: links[k]!.hello!.hostname,
    share: shares[k]!,
    result: a.result,
    records: decoded(links[k]!, a.records),
    clock: clocks[k]!,
  }));
  return mergeAgentLoads(parts, { url: options.url, scheduledMs, scheduledAt, environment: environment() });
}

/** An agent's records, decoded; records that do not decode are its agent's fault, named as one. */
function decoded(link: AgentLink, e: EncodedRecords): RecordsData {
  try {
    return decodeRecords(e);
  } catch (err) {
    throw new HostError(link.host, `its agent broke the protocol: the answer to load.result.records: ${(err as Error).message}`, 'garbled');
  }
}

function loadFields(o: ReturnType<typeof resolveLoadOptions>): AgentLoadOptions {
  return {
    url: o.url,
    concurrency: o.concurrency,
    requests: o.requests,
    durationS: o.durationS,
    timeoutS: o.timeoutS,
    trim: o.trim,
    keepalive: o.keepalive,
    workers: o.workers,
    method: o.method,
    ...(o.transport ? { transport: o.transport } : {}),
  };
}

/**
 * Sends each agent its share and waits for all. On the first failure the others are cancelled (they answer with what
 * they measured, or their links are closed after CANCEL_GRACE_MS) and that failure is thrown; `signal` cancels all.
 */
async function runShares(
  links: AgentLink[],
  work: { options: AgentLoadOptions; startAtMs: number }[],
  signal?: AbortSignal,
): Promise<AgentLoadAnswer[]> {
  const started = links.map((l, k) => l.start<AgentLoadAnswer>('load', { options: work[k]!.options, startAtMs: work[k]!.startAtMs }));
  const cancelAll = () => links.forEach((l, k) => void l.request('cancel', { of: started[k]!.id }).catch(() => {}));
  signal?.addEventListener('abort', cancelAll, { once: true });
  if (signal?.aborted) cancelAll();
  let failure: unknown;
  let failed!: () => void;
  const someFailed = new Promise<void>((resolve) => {
    failed = resolve;
  });
  const outcomes = started.map((s) =>
    s.answer.catch((err: unknown) => {
      if (failure === undefined) {
        failure = err;
        cancelAll();
        failed();
      }
      return undefined;
    }),
  );
  const late = someFailed.then(() => sleep(CANCEL_GRACE_MS, 'late' as const, { ref: false }));
  const answers = await Promise.race([Promise.all(outcomes), late]);
  signal?.removeEventListener('abort', cancelAll);
  if (failure !== undefined || answers === 'late') throw failure;
  return answers as AgentLoadAnswer[];
}
