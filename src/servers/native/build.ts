// Compiling the native C toy servers on first use: the system C compiler (cc), -O2, into .cache/native/ (which
// git ignores), one binary per source hash, so an edited source is rebuilt and an unchanged one never is.
// A missing compiler or library is reported with the Debian package that brings it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingDependencyError, ServerError } from '../../core/errors.js';
import type { Availability } from '../types.js';

export interface NativeSource {
  /** File name without .c under src/servers/native/: "fork", "st"... */
  name: string;
  /** Extra compiler arguments (libraries). */
  libraries: string[];
  /** The library it needs, if any: its header (as the compiler names it when missing) and Debian package. */
  needs?: { what: string; header: string; library: string; debianPackage: string };
}

const CFLAGS = ['-O2', '-Wall', '-std=gnu11'];
const INSTALL_ALL = 'or run `sudo scripts/install-servers.sh`';

/** The package root: the nearest folder above this module that holds package.json (works from src/ and dist/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new ServerError('cannot find the eventbench package folder (package.json) above ' + fileURLToPath(import.meta.url));
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

function compile(args: string[]): Promise<{ ok: boolean; missingCompiler: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('cc', args, { timeout: 120_000 }, (err, stdout, stderr) => {
      const missingCompiler = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      resolve({ ok: !err, missingCompiler, output: `${stdout}${stderr}`.trim() });
    });
  });
}

/** A compiler or library the build lacks, with what installs it. */
export class MissingNativeDependency extends MissingDependencyError {
  constructor(readonly what: string, readonly hint: string) {
    super(what, hint);
  }
}

export function missing(source: NativeSource, output: string, missingCompiler: boolean): MissingNativeDependency | undefined {
  if (missingCompiler) return new MissingNativeDependency('the C compiler (cc)', `install it with \`sudo apt-get install build-essential\`, ${INSTALL_ALL}`);
  const needs = source.needs;
  if (needs && (output.includes(`${needs.header}: No such file`) || output.includes(`cannot find -l${needs.library}`))) {
    return new MissingNativeDependency(needs.what, `install it with \`sudo apt-get install ${needs.debianPackage}\`, ${INSTALL_ALL}`);
  }
  return undefined;
}

const builds = new Map<string, Promise<string>>();

/** The path of the compiled server, compiling it first if its sources changed since the last build. */
export function buildNative(source: NativeSource): Promise<string> {
  const dir = sourceDir();
  const files = [`${source.name}.c`, 'common.c'].map((f) => path.join(dir, f));
  const hash = createHash('sha256');
  for (const f of [...files, path.join(dir, 'common.h')]) hash.update(readFileSync(f));
  hash.update([...CFLAGS, ...source.libraries].join(' '));
  const binary = path.join(cacheDir(), `${source.name}-${hash.digest('hex').slice(0, 16)}`);
  let build = builds.get(binary);
  if (!build) {
    build = (async () => {
      if (existsSync(binary)) return binary;
      // Compile beside the target and rename: another process compiling the same source never sees half a file.
      const temporary = `${binary}.${process.pid}.tmp`;
      const result = await compile([...CFLAGS, '-o', temporary, ...files, ...source.libraries]);
      if (!result.ok) {
        rmSync(temporary, { force: true });
        throw missing(source, result.output, result.missingCompiler) ?? new ServerError(`compiling native-${source.name} failed:\n${result.output}`);
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
