import { getSystemErrorName } from 'node:util';

// One error class per kind of failure, each with a stable `code`, so callers branch on codes, never on message text.

/** Base class: every error eventbench raises on purpose. The CLI prints `message` on one line, no stack. */
export class EventbenchError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option or argument. The message names the field, the value given, the limit, and what to do. */
export class UsageError extends EventbenchError {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, limit: string, hint?: string) {
    // Strings quoted, lists and objects (a servers file's fields) as JSON, the rest as they print.
    const shown = typeof value === 'string' || (typeof value === 'object' && value !== null) ? JSON.stringify(value) : String(value);
    super('EB_USAGE', `${field}: got ${shown}, ${limit}${hint ? `; ${hint}` : ''}`);
    this.field = field;
    this.value = value;
  }
}

/** Something the host lacks (a binary, a library, a permission); the message says how to get it. */
export class MissingDependencyError extends EventbenchError {
  constructor(what: string, hint: string) {
    super('EB_MISSING', `${what} is not available: ${hint}`);
  }
}

/** A run folder whose contents cannot be read: damaged, of another schema version, or holding no results yet. */
export class ResultsError extends EventbenchError {
  constructor(message: string) {
    super('EB_RESULTS', message);
  }
}

/** A system call made through the FFI failed: names the call, the errno by name, and what it stopped. */
export class SystemCallError extends EventbenchError {
  readonly errno: number;
  constructor(call: string, errno: number, consequence: string) {
    let name = `errno ${errno}`;
    try {
      name = `${getSystemErrorName(-errno)} (errno ${errno}, see errno(3))`;
    } catch {
      /* unknown errno: keep the number */
    }
    super('EB_SYSCALL', `${call} failed with ${name}: ${consequence}`);
    this.errno = errno;
  }
}

/** ApacheBench (`--engine ab`) failed, or printed what this reader does not know. */
export class AbError extends EventbenchError {
  constructor(message: string) {
    super('EB_AB', message);
  }
}

/** A server under test that failed to start or died; carries what it printed last. */
export class ServerError extends EventbenchError {
  constructor(message: string, code = 'EB_SERVER') {
    super(code, message);
  }
}

/** The port a server was to bind is held by another process (a server that cannot bind port 0 may pick again). */
export class PortInUseError extends ServerError {
  constructor(message: string) {
    super(message, 'EB_PORT_IN_USE');
  }
}

/**
 * How another host failed: `unreachable` (ssh could not connect, no eventbench there, another version), `lost` (its
 * agent or its ssh ended mid-request), `deadline` (no answer within the time the request allows: a stuck agent, a
 * host swapping, a half-open link; its processes were stopped) or `garbled` (an answer that breaks the protocol:
 * not eventbench's agent, or a broken one). A point failed for `lost` or `deadline` is worth one retry on a fresh
 * link; `garbled` is not.
 */
export type HostFaultKind = 'unreachable' | 'lost' | 'deadline' | 'garbled';

const HOST_CODES: Record<HostFaultKind, string> = {
  unreachable: 'EB_HOST',
  lost: 'EB_HOST',
  deadline: 'EB_HOST_DEADLINE',
  garbled: 'EB_HOST_PROTOCOL',
};

/**
 * Another host (a machine over SSH, a network namespace, an agent) could not be reached, set up or kept: the
 * message names the host and says what to do.
 */
export class HostError extends EventbenchError {
  readonly host: string;
  readonly fault: HostFaultKind;
  constructor(host: string, message: string, fault: HostFaultKind = 'lost') {
    super(HOST_CODES[fault], `${host}: ${message}`);
    this.host = host;
    this.fault = fault;
  }
}

/** The causes of a failed write that the user can act on, by errno name, in words. */
const DISK_CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EIO: 'an input/output error (a failing disk?)',
  EFBIG: 'the file is too large for the file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/**
 * A results file could not be written whole: names the folder, the cause (no space left, read-only, quota) and what
 * was kept. `errno` is the system's name for the cause ("ENOSPC"), or "short" for a write that stopped early.
 */
export class DiskError extends EventbenchError {
  readonly errno: string;
  constructor(folder: string, file: string, errno: string, kept: string) {
    const cause = DISK_CAUSES[errno] ?? (errno === 'short' ? 'the write stopped early (the disk is full?)' : errno);
    super('EB_DISK', `${folder}: could not write ${file}: ${cause} (${errno}); ${kept}`);
    this.errno = errno;
  }
}
