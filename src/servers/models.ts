import type { ServerModel } from './registry.js';

export const typescriptModels: ServerModel[] = [];

// Kernel threads and processes (issue 3, branch threads).
import { threads } from './threads.js';
import { threadPool } from './thread-pool.js';
import { processes } from './processes.js';
typescriptModels.push(threads, threadPool, processes);
