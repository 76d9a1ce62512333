// Which cores this host has for us, and pinning with taskset: the server on its cores, the client and the runner on
// the others, so that neither takes the other's CPU.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { UsageError } from '../core/errors.js';

/** The CPUs this process may run on (its affinity), ascending. */
export function allowedCpus(): number[] {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return expandCpuList(m[1]) ?? [];
  } catch {
    /* not Linux */
  }
  return os.cpus().map((_, i) => i);
}

function expandCpuList(text: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** A taskset CPU list ("0", "1-3", "0,2"), checked against the CPUs that exist for us. */
export function parseCpuList(field: string, text: string, allowed = allowedCpus()): number[] {
  const cpus = expandCpuList(text);
  if (!cpus || cpus.length === 0) throw new UsageError(field, text, 'expected a CPU list such as 0, 1-3 or 0,2');
  const missing = cpus.filter((c) => !allowed.includes(c));
  if (missing.length > 0) {
    throw new UsageError(
      field,
      text,
      `CPU ${missing.join(',')} does not exist here; available: ${allowed.join(',')}`,
      'see `eventbench doctor`',
    );
  }
  return cpus;
}

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** argv that runs `argv` pinned to `cpus` when taskset exists, else `argv` unchanged. */
export function pinned(cpus: string, argv: string[], withTaskset = hasTaskset()): string[] {
  return withTaskset ? ['taskset', '-c', cpus, ...argv] : argv;
}

/** Pins every thread of this process to `cpus` (and back, at the end of the run). */
export function pinSelf(cpus: string, warn: (text: string) => void): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    warn(`could not pin the runner to CPU ${cpus} (${(err as Error).message}); its warm-ups may share the server's core`);
  }
}
