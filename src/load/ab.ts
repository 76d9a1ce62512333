// `--engine ab`: the real ApacheBench, the paper's client, run with the same settings and read back into our
// schema so every figure of ours can be checked against it. ab keeps no per-request records in start order, so
// its figures are over all requests (no trim). Its latency mean is estimated from the 101 quantiles of its -e
// file (microsecond precision), since its table rounds to whole milliseconds and its "Time per request" is
// concurrency·time/requests by construction, which would make l_m equal l whatever happened.
import { clockTicksPerS, procStat } from '../core/proc.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AbError, MissingDependencyError } from '../core/errors.js';
import { ERROR_KINDS, PERCENTILES, type ErrorKind, type LatencyMs, type LoadOptions, type PhaseMs } from './types.js';
import { asRoot } from '../core/format.js';

export interface AbFigures {
  requestsCompleted: number;
  durationS: number;
  throughputRps: number;
  documentBytes: number | null;
  bytesReceived: number;
  errors: Record<ErrorKind, number> & { total: number };
  non2xx: number;
  latencyMs: LatencyMs;
  phasesMs: { connect: PhaseMs; processing: PhaseMs; waiting: PhaseMs; total: PhaseMs };
  /** ab's CPU time (from this process's reaped-children counters). */
  cpuS: { user: number; system: number };
}

export function abArgs(o: LoadOptions, csvFile: string): string[] {
  const args = ['-c', String(o.concurrency), '-s', String(Math.ceil(o.timeoutS)), '-r', '-e', csvFile];
  if (o.durationS !== undefined) args.push('-t', String(o.durationS));
  if (o.requests !== undefined) args.push('-n', String(o.requests));
  if (o.keepalive) args.push('-k');
  if (o.method === 'HEAD') args.push('-i');
  args.push(o.url);
  return args;
}

/** Children's CPU seconds (cutime, cstime) from /proc/self/stat: grows when a child such as ab is reaped. */
function childrenCpuS(): { user: number; system: number } {
  const s = procStat('self');
  return s ? { user: s.cutime / clockTicksPerS(), system: s.cstime / clockTicksPerS() } : { user: NaN, system: NaN };
}

export async function runAb(o: LoadOptions): Promise<AbFigures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventbench-ab-'));
  const csv = path.join(dir, 'percentiles.csv');
  try {
    const before = childrenCpuS();
    const { code, stdout, stderr } = await run('ab', abArgs(o, csv), o.signal);
    const after = childrenCpuS();
    if (code !== 0) throw new AbError(`ab failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`);
    const quantiles = parseQuantiles(await readFile(csv, 'utf8'));
    return { ...parseAbOutput(stdout, quantiles), cpuS: { user: after.user - before.user, system: after.system - before.system } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], signal?: AbortSignal): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGINT' });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT')
        reject(
          new MissingDependencyError(
            'ab (ApacheBench)',
            `install Debian's apache2-utils: \`${asRoot('apt-get install apache2-utils')}\` or \`${asRoot('scripts/install-servers.sh')}\``,
          ),
        );
      else if (err.name === 'AbortError') resolve({ code: 130, stdout, stderr: 'interrupted' });
      else reject(err);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The 101 lines "p,ms" of ab's -e file, as an array indexed by percentage. */
export function parseQuantiles(text: string): number[] {
  const q: number[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [p, ms] = line.split(',');
    if (p !== undefined && ms !== undefined && /^\d+$/.test(p)) q[Number(p)] = Number(ms);
  }
  return q;
}

function num(text: string, re: RegExp): number | undefined {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

function tableRow(text: string, name: string, mean?: number): PhaseMs {
  // "Connect:        0    0   0.0      0       0" : min mean sd median max, whole milliseconds but sd.
  const m = new RegExp(`^${name}:\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
  if (!m) return { min: NaN, mean: NaN, sd: NaN, median: NaN, max: NaN };
  const [min, rowMean, sd, median, max] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { min, mean: mean ?? rowMean, sd, median, max };
}

/** Reads ab's text report; `quantiles` (from -e) give the total-time distribution at microsecond precision. */
export function parseAbOutput(text: string, quantiles: number[]): Omit<AbFigures, 'cpuS'> {
  const completed = num(text, /^Complete requests:\s+(\d+)/m);
  if (completed === undefined) throw new AbError('ab printed no "Complete requests" line: is this ApacheBench 2.3?');
  const failed = /^\s+\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/m.exec(text);
  const non2xx = num(text, /^Non-2xx responses:\s+(\d+)/m) ?? 0;
  const errors = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number> & { total: number };
  if (failed) {
    errors.connect = Number(failed[1]);
    errors.reset = Number(failed[2]);
    errors.length = Number(failed[3]);
    errors.other = Number(failed[4]);
  }
  errors.status = non2xx;
  errors.total = errors.connect + errors.reset + errors.length + errors.other + errors.status;

  // Mean of the distribution: average of the midpoints between successive percentiles.
  let mean = NaN;
  if (quantiles.length === 101) {
    mean = 0;
    for (let p = 0; p < 100; p++) mean += (quantiles[p]! + quantiles[p + 1]!) / 2 / 100;
  }
  const total = tableRow(text, 'Total', Number.isNaN(mean) ? undefined : mean);
  const percentiles: Record<string, number> = {};
  for (const p of PERCENTILES) {
    // 99.9 lies between ab's 99 and 100: interpolated.
    const lo = Math.floor(p),
      hi = Math.ceil(p);
    percentiles[String(p)] = quantiles[lo]! + (quantiles[hi]! - quantiles[lo]!) * (p - lo);
  }
  const sd = total.sd;
  const latencyMs: LatencyMs = {
    min: quantiles[0] ?? total.min,
    mean: total.mean,
    sd,
    median: quantiles[50] ?? total.median,
    max: quantiles[100] ?? total.max,
    percentiles,
  };
  const doc = num(text, /^Document Length:\s+(\d+) bytes/m);
  return {
    requestsCompleted: completed,
    durationS: num(text, /^Time taken for tests:\s+([\d.]+) seconds/m) ?? NaN,
    throughputRps: num(text, /^Requests per second:\s+([\d.]+)/m) ?? NaN,
    documentBytes: doc ?? null,
    bytesReceived: num(text, /^Total transferred:\s+(\d+) bytes/m) ?? 0,
    errors,
    non2xx,
    latencyMs,
    phasesMs: {
      connect: tableRow(text, 'Connect'),
      processing: tableRow(text, 'Processing'),
      waiting: tableRow(text, 'Waiting'),
      total: { ...total, min: latencyMs.min, median: latencyMs.median, max: latencyMs.max },
    },
  };
}
