// The TypeScript servers under test, one per concurrency model, in the order `serve --list` shows them.
import type { ServerModel } from './types.js';
import { events } from './events.js';
import { eventsUv } from './events-uv.js';
import { eventsEpoll } from './events-epoll.js';
import { asyncModel } from './async.js';
import { asyncCompiled } from './async-compiled.js';
import { coroutines } from './coroutines/index.js';
import { threads } from './threads.js';
import { threadPool } from './thread-pool.js';
import { processes } from './processes.js';
import { processPool } from './process-pool.js';
import { nodeHttp } from './node-http.js';

export const typescriptModels: ServerModel[] = [
  events,
  eventsUv,
  eventsEpoll,
  asyncModel,
  asyncCompiled,
  coroutines,
  threads,
  threadPool,
  processes,
  processPool,
  nodeHttp,
];
