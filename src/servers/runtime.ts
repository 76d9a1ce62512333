// The JavaScript runtimes a TypeScript model can run under: Node (the default, whatever runs eventbench), Bun and
// Deno. Bun and Deno come from the project's own optional dependencies (`npm ci` installs the binary for this
// platform), so a run needs nothing from the system; a runtime whose binary is missing is skipped with why.
// A model runs under another runtime as `<runtime> bin/eventbench.js serve MODEL ...`, and is then named
// `MODEL@runtime` in plans, results and reports (Node keeps the plain name).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAX_HEAD_BYTES } from './request.js';

export type RuntimeName = 'node' | 'bun' | 'deno';
export const RUNTIMES: readonly RuntimeName[] = ['node', 'bun', 'deno'];

/** Where a model runs: `true`, or why it cannot under that runtime (one line, shown as the skip reason). */
export type RuntimeSupport = Partial<Record<RuntimeName, true | string>>;

/** A pure-`net` TypeScript model: it runs under all three. */
export const EVERY_RUNTIME: RuntimeSupport = { node: true, bun: true, deno: true };

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Candidate binaries, first found wins: the package's own (after its postinstall), then the platform package's. */
const CANDIDATES: Record<Exclude<RuntimeName, 'node'>, string[]> = {
  bun: ['node_modules/bun/bin/bun.exe', `node_modules/@oven/bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}/bin/bun`],
  deno: ['node_modules/deno/deno', `node_modules/@deno/linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}-glibc/deno`],
};

export interface RuntimeInfo {
  name: RuntimeName;
  /** Path of its binary, when found. */
  bin?: string;
  /** Its version ("1.4.5"), when it ran. */
  version?: string;
  /** Why it cannot run here, when it cannot. */
  missing?: string;
}

const cache = new Map<RuntimeName, RuntimeInfo>();

/** The runtime's binary and version, checked once by running `BIN --version`. */
export function runtimeInfo(name: RuntimeName): RuntimeInfo {
  const known = cache.get(name);
  if (known) return known;
  let info: RuntimeInfo;
  if (name === 'node') {
    info = { name, bin: process.execPath, version: process.versions.node };
  } else {
    const paths = CANDIDATES[name].map((p) => ROOT + p);
    const bin = paths.find((p) => existsSync(p));
    if (!bin) {
      info = {
        name,
        missing: `no ${name} binary for ${process.platform}-${process.arch} in node_modules (the optional dependency \`${name}\` is not installed here: run \`npm ci\`)`,
      };
    } else {
      try {
        const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
        const version = /(\d+\.\d+\.\d+\S*)/.exec(out)?.[1];
        info = version ? { name, bin, version } : { name, bin, missing: `${bin} --version printed ${JSON.stringify(out.slice(0, 80))}` };
      } catch (err) {
        info = { name, bin, missing: `${bin} does not run here: ${(err as Error).message.split('\n')[0]}` };
      }
    }
  }
  cache.set(name, info);
  return info;
}

/** A model's `available()` when what it needs is the runtime `name`: ok, or why not and how to install it. */
export async function runtimeAvailable(name: RuntimeName): Promise<{ ok: true } | { ok: false; reason: string; hint: string }> {
  const info = runtimeInfo(name);
  return info.missing ? { ok: false, reason: info.missing, hint: `npm ci (installs the optional dependency ${name})` } : { ok: true };
}

/** The runtime this process is running under. */
export function currentRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun !== undefined ? 'bun' : g.Deno !== undefined ? 'deno' : 'node';
}

/**
 * argv running `script args...` under `runtime`: Deno with every permission (a server needs net, env and files);
 * Bun with its HTTP parser's head limit at ours (MAX_HEAD_BYTES, 8 KiB; Bun's own is 16 KiB), so that Bun.serve
 * answers an unfinished 9 KiB head with 431 as every model does.
 */
export function runtimeArgv(runtime: RuntimeName, script: string, args: string[]): string[] {
  const info = runtimeInfo(runtime);
  if (!info.bin || info.missing) throw new Error(`${runtime} cannot run here: ${info.missing}`);
  if (runtime === 'deno') return [info.bin, 'run', '-A', script, ...args];
  if (runtime === 'bun') return [info.bin, `--max-http-header-size=${MAX_HEAD_BYTES}`, script, ...args];
  return [info.bin, script, ...args];
}

/** `events@bun` → { model: 'events', runtime: 'bun' }; a plain name runs under no runtime in particular. */
export function splitRuntime(name: string): { model: string; runtime?: RuntimeName } {
  const at = name.lastIndexOf('@');
  if (at <= 0) return { model: name };
  const runtime = name.slice(at + 1) as RuntimeName;
  return RUNTIMES.includes(runtime) ? { model: name.slice(0, at), runtime } : { model: name };
}

/** The name of `model` under `runtime`: Node keeps the plain name. */
export function runtimeServerName(model: string, runtime: RuntimeName): string {
  return runtime === 'node' ? model : `${model}@${runtime}`;
}

/** Parses `--runtime`/`--runtimes` values; undefined when the name is none of them. */
export function isRuntime(name: string): name is RuntimeName {
  return (RUNTIMES as readonly string[]).includes(name);
}

/**
 * The kernel-thread and process-per-connection models hand the listening socket's descriptor to their threads.
 * Deno's node:net has no descriptor on its listener (`_handle.fd` is undefined); koffi then refused it with
 * "Unexpected Undefined value, expected number" (measured with Deno 2.9.6). Bun's has one, and they run there.
 */
export const KERNEL_THREAD_RUNTIMES: RuntimeSupport = {
  node: true,
  bun: true,
  deno: "Deno's node:net gives no file descriptor for a listening socket (_handle.fd is undefined), which the kernel threads accept on",
};

/** events-uv is built on Node's internal tcp_wrap and stream_wrap bindings, which Bun and Deno do not offer as Node does. */
export const UV_RUNTIMES: RuntimeSupport = {
  node: true,
  bun: "needs Node's internal tcp_wrap binding, which Bun does not offer",
  deno: "needs Node's internal tcp_wrap binding, which Deno does not offer as Node does (its server listens but never answers)",
};
