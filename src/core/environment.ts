// The context every result carries (mitata's habit): what ran, where, on which kernel and CPU, and the environment
// variables that change what a server or the client does (an allow-list: any other, a token or a password, is never
// written into a results folder).
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { int, num, obj, opt, record, str } from './shape.js';

export interface Environment {
  /** Always "node" today; kept so results from other runtimes can sit beside ours. */
  runtime: string;
  /** process.version, e.g. "v20.20.2". */
  runtimeVersion: string;
  /** os.platform() and os.arch(), e.g. "linux x64". */
  platform: string;
  /** os.release(), the kernel version. */
  kernel: string;
  /** Model name of the first CPU. */
  cpuModel: string;
  /** Logical CPUs the OS reports. */
  cpus: number;
  /** Total memory, bytes. */
  memoryBytes: number;
  /** The eventbench version that produced the result. */
  eventbenchVersion: string;
  /**
   * The variables of MEASUREMENT_VARIABLES set in its environment (servers and clients inherit them), by name; absent
   * in older results.
   */
  variables?: Record<string, string>;
}

/**
 * Environment variables that change a measurement: thread pools and runtimes' flags (Node, Go, Python, the JVM,
 * Rust), the allocator, preloaded and searched libraries, the program search path, the locale. Only these are
 * recorded, of the runner's environment and of a user server's `env`; the others are named, never their values.
 */
export const MEASUREMENT_VARIABLES: readonly string[] = [
  'UV_THREADPOOL_SIZE',
  'NODE_OPTIONS',
  'DENO_V8_FLAGS',
  'GOMAXPROCS',
  'GOGC',
  'GOMEMLIMIT',
  'GODEBUG',
  'PYTHONOPTIMIZE',
  'PYTHONUNBUFFERED',
  'PYTHONMALLOC',
  'PYTHONHASHSEED',
  'PYTHONPATH',
  'WEB_CONCURRENCY',
  'JAVA_TOOL_OPTIONS',
  'JAVA_OPTS',
  'OMP_NUM_THREADS',
  'RAYON_NUM_THREADS',
  'TOKIO_WORKER_THREADS',
  'MALLOC_ARENA_MAX',
  'GLIBC_TUNABLES',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'PATH',
  'LANG',
  'LC_ALL',
  'TZ',
  'PORT',
  'HOST',
];

/** The variables of `env` that MEASUREMENT_VARIABLES allows, and the names of the others (never their values). */
export function measurementVariables(env: Readonly<Record<string, string | undefined>>): {
  kept: Record<string, string>;
  left: string[];
} {
  const kept: Record<string, string> = {};
  const left: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (MEASUREMENT_VARIABLES.includes(k)) kept[k] = v;
    else left.push(k);
  }
  return { kept, left: left.sort() };
}

/** An Environment's shape, for what comes from elsewhere (an agent's hello, a run.json): src/core/shape.ts. */
export const ENVIRONMENT_SHAPE = obj({
  runtime: str,
  runtimeVersion: str,
  platform: str,
  kernel: str,
  cpuModel: str,
  cpus: int,
  memoryBytes: num,
  eventbenchVersion: str,
  variables: opt(record(str)),
});

export function eventbenchVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function environment(): Environment {
  const cpus = os.cpus();
  return {
    runtime: 'node',
    runtimeVersion: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryBytes: os.totalmem(),
    eventbenchVersion: eventbenchVersion(),
    variables: measurementVariables(process.env).kept,
  };
}
