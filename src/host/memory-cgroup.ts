// The kernel's memory for a server, which PSS and RSS leave out: a kernel thread's stack and task structures, page
// tables, every socket's own structures and buffers, epoll items, file descriptors. A memory cgroup is charged for
// the kernel memory its processes allocate, so the server's processes are put in one of their own and it is read:
// cgroup v1 (the memory controller's kmem counter, and kmem.tcp for socket buffers, which v1 only counts once a
// tcp limit is written) or v2 (memory.stat: kernel, or its parts, and sock). Where there is no memory cgroup to
// make, the host's KernelStack, PageTables and Slab from /proc/meminfo stand in: host-wide, so they include the
// client's own sockets and everything else the host does meanwhile, and are flagged so.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { moveToCgroup, removeCgroupDir, removeStaleCgroups } from './throttle.js';

const V1_ROOT = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';
/** Our memory cgroups are named eventbench-memory-PID-N: the sweep of a killed run's leftovers finds them by it. */
const PREFIX = 'eventbench-memory-';

/** Where a kernel figure comes from: the server's own memory cgroup (v1 or v2), or the whole host. */
export type KernelSource = 'cgroup-v1' | 'cgroup-v2' | 'host';

/** One look at the kernel memory charged to the server (or, for 'host', held by the whole host), bytes. */
export interface KernelMemory {
  /** All of it: v1 kmem + kmem.tcp; v2 memory.stat kernel (or the sum of its parts) + sock; host KernelStack + PageTables + Slab. */
  bytes: number;
  /**
   * The parts the kernel names, bytes each: kernelStack, pageTables, slab and sock (v2, and host but sock),
   * kmem (v1: stacks, page tables and slab together) and sock (v1: kmem.tcp, the socket buffers).
   */
  parts: Partial<Record<'kernelStack' | 'pageTables' | 'slab' | 'sock' | 'kmem', number>>;
}

/** The kernel memory of the processes added to it: a memory cgroup made for them, or the host as a whole. */
export interface KernelMeter {
  source: KernelSource;
  /** Why the figure is host-wide (no memory cgroup could be made), when it is. */
  reason?: string;
  /** The cgroup folder, when there is one. */
  path?: string;
  /** Moves processes into the cgroup (their threads and later children follow); a no-op for 'host'. */
  add(pids: Iterable<number>): void;
  /** The figure now, or undefined when the files cannot be read. */
  read(): KernelMemory | undefined;
  /** Moves whatever is still inside back out and removes the cgroup. Safe to call twice. */
  remove(): void;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** "key value" lines (cgroup memory.stat) or "Key: value kB" lines (/proc/meminfo) as numbers, kB made bytes. */
export function parseStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):?\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

/** What v2's memory.stat `kernel` sums, for a kernel (before 5.18) that does not print it. */
const KERNEL_PARTS = ['kernel_stack', 'pagetables', 'sec_pagetables', 'percpu', 'slab', 'vmalloc'];

/** The kernel figure of a v2 memory.stat: `kernel` where the kernel sums it (5.18 and later), else its parts; plus sock. */
export function v2Kernel(stat: Record<string, number>): KernelMemory {
  const parts = { kernelStack: stat.kernel_stack, pageTables: stat.pagetables, slab: stat.slab, sock: stat.sock };
  const kernel = stat.kernel ?? KERNEL_PARTS.reduce((a, k) => a + (stat[k] ?? 0), 0);
  return { bytes: kernel + (stat.sock ?? 0), parts: Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined)) };
}

/** The host's kernel memory from /proc/meminfo: KernelStack + PageTables + Slab. */
export function hostKernel(meminfo: Record<string, number>): KernelMemory | undefined {
  const { KernelStack: kernelStack, PageTables: pageTables, Slab: slab } = meminfo;
  if (kernelStack === undefined || pageTables === undefined || slab === undefined) return undefined;
  return { bytes: kernelStack + pageTables + slab, parts: { kernelStack, pageTables, slab } };
}

/** This process's own v1 memory cgroup (its path under the hierarchy), from /proc/self/cgroup. */
function ownV1Group(): string {
  const line = (readText('/proc/self/cgroup') ?? '').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'));
  return line?.split(':').slice(2).join(':') ?? '/';
}

/**
 * Where a memory cgroup can be made here, or why not. v1: under this process's own memory cgroup, so the server
 * stays inside whatever limits and accounting it ran under; v2: under the root, where the memory controller can
 * be handed down (a non-root v2 group with processes in it cannot hand controllers to children).
 */
export function memoryCgroupParent(): { source: 'cgroup-v1' | 'cgroup-v2'; parent: string } | { reason: string } {
  if (existsSync(join(V1_ROOT, 'memory.usage_in_bytes'))) {
    const parent = join(V1_ROOT, ownV1Group());
    if (!existsSync(join(parent, 'memory.kmem.usage_in_bytes'))) {
      return { reason: `the cgroup v1 memory controller at ${V1_ROOT} keeps no kmem count` };
    }
    return writable(parent) ? { source: 'cgroup-v1', parent } : { reason: `${parent} is not writable (run as root)` };
  }
  const controllers = readText(join(V2_ROOT, 'cgroup.controllers'));
  if (controllers === undefined) return { reason: 'no memory cgroup is mounted' };
  if (!controllers.split(/\s+/).includes('memory')) return { reason: 'cgroup v2 without the memory controller' };
  return writable(V2_ROOT) ? { source: 'cgroup-v2', parent: V2_ROOT } : { reason: `${V2_ROOT} is not writable (run as root)` };
}

let counter = 0;

/** The host-wide stand-in, saying why there is no cgroup. */
function hostMeter(reason: string): KernelMeter {
  return {
    source: 'host',
    reason,
    add() {},
    remove() {},
    read: () => {
      const text = readText('/proc/meminfo');
      return text === undefined ? undefined : hostKernel(parseStat(text));
    },
  };
}

/** Makes the group at `path` ready to count a server's kernel memory; on failure removes it again and throws. */
function setUpGroup(source: 'cgroup-v1' | 'cgroup-v2', path: string): void {
  try {
    mkdirSync(path);
    // The root must hand the memory controller down before a child has memory.stat.
    if (source === 'cgroup-v2' && !existsSync(join(path, 'memory.stat'))) {
      writeFileSync(join(V2_ROOT, 'cgroup.subtree_control'), '+memory');
    }
    // v1 charges socket buffers only to a group with a tcp limit: an unlimited one turns the count on.
    if (source === 'cgroup-v1') writeFileSync(join(path, 'memory.kmem.tcp.limit_in_bytes'), '-1');
  } catch (err) {
    try {
      rmdirSync(path);
    } catch {
      /* never made */
    }
    throw err;
  }
}

/** The kernel memory charged to the group at `path`: v2's memory.stat, or v1's kmem counter plus kmem.tcp. */
function readGroup(source: 'cgroup-v1' | 'cgroup-v2', path: string): KernelMemory | undefined {
  if (source === 'cgroup-v2') {
    const text = readText(join(path, 'memory.stat'));
    return text === undefined ? undefined : v2Kernel(parseStat(text));
  }
  const number = (file: string) => Number(readText(join(path, file)) ?? NaN);
  const kmem = number('memory.kmem.usage_in_bytes');
  const sock = number('memory.kmem.tcp.usage_in_bytes');
  if (!Number.isFinite(kmem)) return undefined;
  return Number.isFinite(sock) ? { bytes: kmem + sock, parts: { kmem, sock } } : { bytes: kmem, parts: { kmem } };
}

/** A fresh memory cgroup to put a server in, or the host-wide stand-in saying why there is none. */
export function createKernelMeter(): KernelMeter {
  const where = memoryCgroupParent();
  if ('reason' in where) return hostMeter(where.reason);
  removeStaleCgroups(where.parent, PREFIX);
  const path = join(where.parent, `${PREFIX}${process.pid}-${++counter}`);
  try {
    setUpGroup(where.source, path);
  } catch (err) {
    return hostMeter(`could not set up ${path}: ${(err as Error).message}`);
  }
  let removed = false;
  return {
    source: where.source,
    path,
    add(pids) {
      for (const pid of pids) moveToCgroup(path, pid);
    },
    read: () => readGroup(where.source, path),
    remove() {
      if (removed) return;
      for (const pid of (readText(join(path, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) moveToCgroup(where.parent, pid);
      removeCgroupDir(path);
      removed = true;
    },
  };
}

/** Removes the memory cgroups of runs killed with -9; one line each, for the user. */
export function removeStaleMemoryCgroups(): string[] {
  const where = memoryCgroupParent();
  return 'reason' in where ? [] : removeStaleCgroups(where.parent, PREFIX);
}
