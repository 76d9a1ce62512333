import { parseNumberArg, parseCommandArgs } from '../../core/args.js';
import { CLEAR_LINE, progressLine } from '../progress.js';
import { UsageError } from '../../core/errors.js';
import { runLoad, LOAD_DEFAULTS, type Engine, type LoadInput, type LoadResult, type Progress } from '../../load/index.js';
import { BYTES_PER_RECORD, MAX_RECORDS } from '../../load/records.js';
import { formatResult } from '../../load/format.js';
import { LAG_P99_BOUND_MS, LAG_P99_SHARE, OPEN_LOOP_DEFAULTS, runOpenLoad } from '../../load/open-loop.js';
import type { Arrivals } from '../../load/types.js';
import { DEFAULT_TRANSPORT, type TransportChoice } from '../../load/transport.js';
import { EXIT, type Command } from '../command.js';

const help = `eventbench load: ApacheBench's closed loop, made trustworthy.

Usage: eventbench load [options] URL
       eventbench load --rate R [options] URL      (the open loop)

Keeps exactly -c requests in flight: the moment one ends, the next starts. Each request opens a fresh TCP
connection and sends an HTTP/1.0 GET, as ab does. Every request is recorded (start, connected, first byte, end,
status, bytes, error, slot); the first and last --trim requests by START ORDER are dropped (ab's -g file is
sorted by time, so dropping its first rows removes the fastest requests, not the ramp-up). Prints ab's summary
plus the paper's measured load l_m = n·t_r/t and a verdict: when l_m < 0.95·c or the client used over 90% of a
core, the client, not the server, set the pace.

Options:
  -c, --concurrency L   requests in flight at all times (the paper's load l)         -c 100
  -n, --requests N      requests to make (default ${LOAD_DEFAULTS.requests} when -t is not given)   -n 20000
  -t, --duration S      stop starting requests after S seconds; with -n, first wins  -t 10
  -s, --timeout S       seconds before one request counts as timed out (ab: 30)      --timeout 5
      --trim K          requests dropped at each end, by start order (default ${LOAD_DEFAULTS.trim},
                        as in the paper; a tenth of the requests when 2K > N/2)      --trim 500
  -k, --keepalive       reuse HTTP/1.1 connections (a different experiment: no
                        connection set-up per request)                                -k
  -i, --head            send HEAD instead of GET (as ab -i)                          -i
      --bailout N       stop after N errors                                          --bailout 100
  -w, --workers N       split the loop over N worker threads (records merged);
                        for when one client core cannot saturate the server          --workers 2
      --engine E        eventbench (default) or ab: run the real ApacheBench with
                        the same settings, report it in the same schema              --engine ab
      --transport T     the eventbench engine's connections: epoll (the system
                        calls through the FFI, no libuv), tcp_wrap (libuv's TCP
                        handles), net (net.Socket), or auto (the first of those
                        that runs here), recorded in the result                      --transport epoll
                        (default ${DEFAULT_TRANSPORT})
      --json            print one JSON object (schema eventbench.load/3) instead     --json
      --raw FILE        write every request's record as CSV, in start order         --raw requests.csv
      --rate R          THE OPEN LOOP: start R requests per second on a schedule,
                        whatever the server does; latency counts from each
                        request's scheduled start (no coordinated omission);
                        replaces -c                                                  --rate 5000
      --arrivals A      open loop: poisson (default, exponential gaps) or uniform   --arrivals uniform
      --seed S          open loop: seed of the poisson schedule (default random,
                        recorded in the result)                                      --seed 42
      --max-inflight M  open loop: requests allowed in flight (default ${OPEN_LOOP_DEFAULTS.maxInflight}); a
                        request due beyond it is not sent, counted as error
                        "inflight", never waited on                                 --max-inflight 2000
      --strict          exit ${EXIT.clientBound} when the verdict is client-bound                      --strict
      --agents LIST     split the load over agents, each keeping its share in flight:
                        local (a child process here) or ssh://[user@]host[:port]
                        (eventbench agent over ssh, one connection per host); all
                        start at one scheduled instant, their records merged into
                        one result over the span every agent covers (-c, -n and
                        --trim are split; --workers is per agent)                --agents local,ssh://10.208.0.11
      --remote-eventbench CMD
                        how ssh starts eventbench on the agents' hosts (default
                        \`eventbench\` on the remote PATH; this checkout's for the
                        hosts of \`eventbench hosts up\`)        --remote-eventbench 'node /opt/eventbench/bin/eventbench.js'

Memory: ${BYTES_PER_RECORD} bytes per request recorded (1,000,000 requests: about ${Math.round(BYTES_PER_RECORD)} MB);
a run stops at ${MAX_RECORDS.toLocaleString('en')} requests.
Open loop: each request starts at its scheduled time on a fresh connection (or a kept-alive idle one with -k).
The client's lag (actual start minus scheduled) is recorded per request; the verdict is client-bound when its
p99 exceeds both ${LAG_P99_BOUND_MS} ms and ${LAG_P99_SHARE * 100}% of the latency p99. Percentiles come from an HDR histogram (3 significant digits), stored in the result.
Errors are counted, never fatal: connect (refused), reset (or closed before a whole response), timeout,
status (non-2xx), length (body differs from the first good response, ab's rule), other.
Progress goes to stderr, only on a terminal. Ctrl-C stops the run and prints what was measured.

Examples:
  eventbench load -c 100 -n 20000 http://127.0.0.1:8080/
  eventbench load -c 100 -t 10 --json http://127.0.0.1:8080/ > result.json
  eventbench load -c 100 -n 20000 --engine ab http://127.0.0.1:8080/
  eventbench load --rate 2000 -t 10 --seed 7 http://127.0.0.1:8080/
  eventbench load --agents ssh://10.208.0.11,ssh://10.208.0.12 -c 100 -n 20000 http://10.208.0.10:8080/

Exit status: ${EXIT.ok} ok, ${EXIT.failure} nothing served / bailout / server gone, ${EXIT.usage} bad input, ${EXIT.clientBound} client-bound (--strict), ${EXIT.interrupted} interrupted.
`;

/** Flags that cannot go together, refused in one line each before anything runs. */
function refuseConflicts(values: Record<string, string | boolean | undefined>): void {
  const refuse = (table: Record<string, string>, why: string, fix: (flag: string) => string) => {
    for (const [k, flag] of Object.entries(table)) if (values[k] !== undefined) throw new UsageError(flag, values[k], why, fix(flag));
  };
  if (values.agents === undefined) {
    refuse({ 'remote-eventbench': '--remote-eventbench' }, 'belongs to --agents', () => 'add --agents or drop it');
  } else {
    refuse(
      { rate: '--rate', engine: '--engine', bailout: '--bailout' },
      'is not available with --agents (a closed loop of the eventbench engine, merged)',
      (flag) => `drop ${flag} or --agents`,
    );
  }
  if (values.rate === undefined) {
    refuse(
      { arrivals: '--arrivals', seed: '--seed', 'max-inflight': '--max-inflight' },
      'belongs to the open loop only',
      () => 'add --rate R or drop it',
    );
  } else {
    refuse(
      { concurrency: '-c', workers: '--workers', engine: '--engine', bailout: '--bailout' },
      'belongs to the closed loop: the open loop (--rate) sets no concurrency and runs one thread',
      (flag) => `drop ${flag} or --rate`,
    );
  }
}

/** `--agents`: the load split over agents and merged (src/host/agents-load.ts); its notes on stderr on a terminal. */
async function agentsLoad(input: LoadInput, agents: string, remoteCommand: string | undefined): Promise<LoadResult> {
  const { loadOverAgents } = await import('../../host/agents-load.js');
  const tty = process.stderr.isTTY === true;
  const { result } = await loadOverAgents({
    ...input,
    onProgress: undefined,
    agents: agents
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    remoteCommand,
    onNote: tty ? (line) => process.stderr.write(`eventbench load: ${line}\n`) : undefined,
  });
  return result;
}

function progressBar(p: Progress): string {
  const fraction = p.total ? p.completed / p.total : p.durationS ? Math.min(1, p.elapsedS / p.durationS) : 0;
  return progressLine(fraction, `${p.completed}${p.total ? `/${p.total}` : ''} requests, ${p.errors} errors, ${p.elapsedS.toFixed(1)} s`);
}

/** Every flag of `load` (the help above says what each means). */
const LOAD_OPTIONS = {
  concurrency: { type: 'string', short: 'c' },
  requests: { type: 'string', short: 'n' },
  duration: { type: 'string', short: 't' },
  timeout: { type: 'string', short: 's' },
  trim: { type: 'string' },
  keepalive: { type: 'boolean', short: 'k' },
  head: { type: 'boolean', short: 'i' },
  bailout: { type: 'string' },
  workers: { type: 'string', short: 'w' },
  engine: { type: 'string' },
  transport: { type: 'string' },
  json: { type: 'boolean' },
  raw: { type: 'string' },
  strict: { type: 'boolean' },
  rate: { type: 'string' },
  arrivals: { type: 'string' },
  seed: { type: 'string' },
  'max-inflight': { type: 'string' },
  agents: { type: 'string' },
  'remote-eventbench': { type: 'string' },
  lines: { type: 'boolean' },
} as const;

type LoadValues = ReturnType<typeof parseCommandArgs<typeof LOAD_OPTIONS>>['values'];

export const load: Command = {
  name: 'load',
  help,
  async run(argv) {
    if (parseCommandArgs('load', argv, LOAD_OPTIONS).values.lines) return loadLines();
    const { values, url, engine } = loadArgs(argv);
    const controller = new AbortController();
    // SIGTERM as Ctrl-C: the load stops, keeps what it measured, and (--agents) stops every agent it started.
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    const tty = process.stderr.isTTY === true;
    try {
      const result = await measure(values, url, engine, controller.signal, tty);
      if (tty) process.stderr.write(CLEAR_LINE);
      process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : formatResult(result));
      if (controller.signal.aborted) return EXIT.interrupted;
      if (result.requests === 0 || result.stoppedEarly === 'bailout' || result.stoppedEarly === 'server-gone') return EXIT.failure;
      if (values.strict && result.verdict.clientBound) return EXIT.clientBound;
      return EXIT.ok;
    } finally {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigint);
    }
  },
};

/** The arguments of one load, checked: its flags, its one URL, its engine. */
function loadArgs(argv: string[]): { values: LoadValues; url: string; engine: Engine } {
  const { values, positionals } = parseCommandArgs('load', argv, LOAD_OPTIONS);
  refuseConflicts(values);
  if (positionals.length !== 1) {
    throw new UsageError(
      'URL',
      positionals.join(' ') || '(none)',
      'expected exactly one http:// URL',
      'e.g. `eventbench load -c 10 http://127.0.0.1:8080/`',
    );
  }
  const engine = values.engine ?? 'eventbench';
  if (engine !== 'eventbench' && engine !== 'ab') throw new UsageError('engine (--engine)', engine, 'expected eventbench or ab');
  return { values, url: positionals[0]!, engine };
}

/** One load, as the flags ask: over agents, the closed loop, or the open loop (--rate). */
async function measure(values: LoadValues, url: string, engine: Engine, signal: AbortSignal, tty: boolean): Promise<LoadResult> {
  const open = values.rate !== undefined;
  const common = {
    url,
    requests: parseNumberArg('requests (-n)', values.requests),
    durationS: parseNumberArg('duration (-t)', values.duration, false),
    timeoutS: parseNumberArg('timeout (--timeout)', values.timeout, false),
    trim: parseNumberArg('trim (--trim)', values.trim),
    keepalive: values.keepalive,
    method: values.head ? ('HEAD' as const) : ('GET' as const),
    rawFile: values.raw,
    transport: values.transport as TransportChoice | undefined,
    signal,
    onProgress: tty ? (p: Progress) => process.stderr.write(progressBar(p)) : undefined,
  };
  const closed = {
    ...common,
    concurrency: parseNumberArg('concurrency (-c)', values.concurrency) ?? 1,
    bailout: parseNumberArg('bailout (--bailout)', values.bailout),
    workers: parseNumberArg('workers (--workers)', values.workers),
    engine,
  };
  return values.agents !== undefined
    ? await agentsLoad(closed, values.agents, values['remote-eventbench'])
    : !open
      ? await runLoad(closed)
      : await runOpenLoad({
          ...common,
          rateRps: parseNumberArg('rate (--rate)', values.rate, false)!,
          arrivals: values.arrivals as Arrivals | undefined,
          seed: parseNumberArg('seed (--seed)', values.seed),
          maxInflight: parseNumberArg('max-inflight (--max-inflight)', values['max-inflight']),
        });
}

/**
 * `eventbench load --lines`: a resident client for the runner (src/host/client-process.ts). Each line of its input is
 * one load's arguments as a JSON array (the flags and URL of `eventbench load`); each line of its output, in order,
 * `{"result": LoadResult}` or `{"error": "..."}`. One process for every point of a run: no start-up per point, and a
 * client whose own code is already compiled. SIGINT stops the load under way (its answer says what it measured);
 * the end of its input ends it.
 */
async function loadLines(): Promise<number> {
  let current: AbortController | undefined;
  const onSigint = () => current?.abort();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', () => process.exit(EXIT.interrupted));
  const { createInterface } = await import('node:readline');
  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      current = new AbortController();
      process.stdout.write(JSON.stringify(await oneLine(line, current.signal)) + '\n');
      current = undefined;
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** One load of `--lines`: its arguments checked as `eventbench load` checks them, its result or why there is none. */
async function oneLine(line: string, signal: AbortSignal): Promise<{ result: LoadResult } | { error: string }> {
  try {
    const argv = JSON.parse(line) as unknown;
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
      throw new UsageError('line', line.slice(0, 80), 'expected a JSON array of strings');
    const { values, url, engine } = loadArgs(argv);
    return { result: await measure(values, url, engine, signal, false) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
