// The context every result carries (mitata's habit): what ran, where, on which kernel and CPU.
import os from 'node:os';
import { readFileSync } from 'node:fs';

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
}

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
  };
}
