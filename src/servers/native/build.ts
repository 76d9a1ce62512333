// Compiling the native toy servers on first use into .cache/native/ (which git ignores): C with the system C
// compiler (cc -O2), C++20 with g++ -O2, Go with go build (its caches in .cache/native/go); one binary per source
// hash, so an edited source is rebuilt and an unchanged one never is. A missing compiler or library is reported
// with the Debian package that brings it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingDependencyError, ServerError } from '../../core/errors.js';
import type { Availability } from '../types.js';
import { installHint } from '../../core/format.js';

export interface NativeSource {
  /** Source file without its extension under src/servers/native/: "fork", "coro", "go-raw"... */
  name: string;
  /** C (the default, `cc`), C++20 (`g++`, for the coroutines) or Go (`go build`, with cgo for common.c). */
  language?: 'c' | 'c++' | 'go';
  /** C files linked in besides common.c: "eventloop.c" for the servers that share native-epoll's loop, "blocking.c" for
   * the thread- and process-per-connection ones. */
  with?: string[];
  /** Extra compiler arguments (libraries). */
  libraries: string[];
  /** The library it needs, if any: its header (as the compiler names it when missing) and Debian package. */
  needs?: { what: string; header: string; library: string; debianPackage: string };
}

const CFLAGS = ['-O2', '-Wall', '-std=gnu11'];
const CXXFLAGS = ['-O2', '-Wall', '-std=c++20'];
const EXTENSION = { c: 'c', 'c++': 'cc', go: 'go' } as const;
const COMPILER = { c: 'cc', 'c++': 'g++', go: 'go' } as const;
/** What each compiler is called when missing, and its Debian package. */
const COMPILER_PACKAGE = {
  cc: ['the C compiler (cc)', 'build-essential'],
  'g++': ['the C++ compiler (g++)', 'g++'],
  go: ['the Go compiler (go)', 'golang-go'],
} as const;
type Compiler = keyof typeof COMPILER_PACKAGE;

/** The package root: the nearest folder above this module that holds package.json (works from src/ and dist/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir)
      throw new ServerError('cannot find the eventbench package folder (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export function sourceDir(): string {
  return path.join(packageRoot(), 'src', 'servers', 'native');
}

/** Where compiled servers are kept: .cache/native in the package, or the temp folder where that is read-only. */
function cacheDir(): string {
  for (const dir of [path.join(packageRoot(), '.cache', 'native'), path.join(os.tmpdir(), 'eventbench-native')]) {
    try {
      mkdirSync(dir, { recursive: true });
      return dir;
    } catch {
      // read-only install: try the next
    }
  }
  throw new ServerError('no writable folder for compiled native servers (tried .cache/native and the temp folder)');
}

interface Compiled {
  ok: boolean;
  missingCompiler?: Compiler;
  output: string;
}

interface CompileOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

function compile(compiler: Compiler, args: string[], options: CompileOptions = {}): Promise<Compiled> {
  const { timeoutMs = 120_000, ...where } = options;
  return new Promise((resolve) => {
    execFile(compiler, args, { timeout: timeoutMs, ...where }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      // cgo runs the C compiler itself, and says so when it is missing.
      const missingCompiler =
        (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? compiler : /C compiler "cc" not found/.test(output) ? 'cc' : undefined;
      resolve({ ok: !err, ...(missingCompiler ? { missingCompiler } : {}), output });
    });
  });
}

/**
 * Go with cgo: the build and module caches in a private folder beside the binaries, the standard library only,
 * never the network, and common.c compiled by the same cc as the C servers.
 */
function goEnv(cache: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOCACHE: path.join(cache, 'go', 'build'),
    GOPATH: path.join(cache, 'go', 'path'),
    GOPROXY: 'off',
    GOFLAGS: '',
    GO111MODULE: 'on',
    CGO_ENABLED: '1',
    CC: 'cc',
  };
}

/** Builds `source` into `output`: one cc (C), cc then g++ (C++, the C files as objects), or go build (Go). */
async function compileSource(source: NativeSource, files: string[], output: string): Promise<Compiled> {
  const language = source.language ?? 'c';
  const [main, ...shared] = files as [string, ...string[]];
  if (language === 'c') return compile('cc', [...CFLAGS, '-o', output, ...files, ...source.libraries]);
  if (language === 'go') {
    // The first build compiles part of the standard library into the cache: minutes on a busy machine.
    const options = { cwd: path.dirname(main), env: goEnv(path.dirname(output)), timeoutMs: 300_000 };
    return compile('go', ['build', '-o', output, path.basename(main)], options);
  }
  const objects: string[] = [];
  try {
    for (const file of shared) {
      const object = `${output}.${path.basename(file)}.o`;
      objects.push(object);
      const c = await compile('cc', [...CFLAGS, '-c', '-o', object, file]);
      if (!c.ok) return c;
    }
    return await compile('g++', [...CXXFLAGS, '-o', output, main, ...objects, ...source.libraries]);
  } finally {
    for (const object of objects) rmSync(object, { force: true });
  }
}

/** A compiler or library the build lacks, with what installs it. */
export class MissingNativeDependency extends MissingDependencyError {
  constructor(
    readonly what: string,
    readonly hint: string,
  ) {
    super(what, hint);
  }
}

/** The compiler (`true`: the source's own) or library a failed build lacks, with what installs it; undefined for a real error. */
export function missing(
  source: NativeSource,
  output: string,
  missingCompiler: Compiler | boolean | undefined,
): MissingNativeDependency | undefined {
  if (missingCompiler) {
    const [what, debianPackage] = COMPILER_PACKAGE[missingCompiler === true ? COMPILER[source.language ?? 'c'] : missingCompiler];
    return new MissingNativeDependency(what, installHint(debianPackage));
  }
  const needs = source.needs;
  if (needs && (output.includes(`${needs.header}: No such file`) || output.includes(`cannot find -l${needs.library}`))) {
    return new MissingNativeDependency(needs.what, installHint(needs.debianPackage));
  }
  return undefined;
}

const builds = new Map<string, Promise<string>>();

/** The path of the compiled server, compiling it first if its sources changed since the last build. */
export function buildNative(source: NativeSource): Promise<string> {
  const dir = sourceDir();
  const language = source.language ?? 'c';
  const main = `${source.name}.${EXTENSION[language]}`;
  // A Go server includes common.c itself, through cgo; the others link it (and eventloop.c where they share it).
  const files = [main, ...(language === 'go' ? [] : ['common.c', ...(source.with ?? [])])].map((f) => path.join(dir, f));
  const inputs = [main, 'common.c', 'common.h', ...(source.with ?? []).flatMap((f) => [f, f.replace(/\.c$/, '.h')])];
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(readFileSync(path.join(dir, f)));
  hash.update([language, ...CFLAGS, ...(language === 'c++' ? CXXFLAGS : []), ...source.libraries].join(' '));
  const binary = path.join(cacheDir(), `${source.name}-${hash.digest('hex').slice(0, 16)}`);
  let build = builds.get(binary);
  if (!build) {
    build = (async () => {
      if (existsSync(binary)) return binary;
      // Compile beside the target and rename: another process compiling the same source never sees half a file.
      const temporary = `${binary}.${process.pid}.tmp`;
      const result = await compileSource(source, files, temporary);
      if (!result.ok) {
        rmSync(temporary, { force: true });
        throw missing(source, result.output, result.missingCompiler) ?? new ServerError(`compiling ${main} failed:\n${result.output}`);
      }
      renameSync(temporary, binary);
      return binary;
    })();
    builds.set(binary, build);
    build.catch(() => builds.delete(binary));
  }
  return build;
}

/** Whether the server can be built here; a missing compiler or library names its Debian package. */
export async function nativeAvailability(source: NativeSource): Promise<Availability> {
  try {
    await buildNative(source);
    return { ok: true };
  } catch (err) {
    if (err instanceof MissingNativeDependency) return { ok: false, reason: `${err.what} is not installed`, hint: err.hint };
    return { ok: false, reason: (err as Error).message, hint: 'the compiler output above says what failed' };
  }
}
