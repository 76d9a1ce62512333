// How each server holds a connection, which is its concurrency model (src/servers/types.ts ConnectionKind): the
// model declares it; a user's server declares it in its servers file (recorded in the plan); a server neither
// knows falls back on the paper row it answers. The ranking chart groups servers by it, the answer names it, the
// memory claim sides by it.
import type { Plan } from '../results/schema.js';
import type { PaperStyle } from '../servers/paper.js';
import { findModel, type ConnectionKind } from '../servers/registry.js';

/** A concurrency model as a reader names it, in the order the chart shows models it cannot rank. */
export const KIND_LABEL: Readonly<Record<ConnectionKind, string>> = {
  event: 'events',
  'user-thread': 'user threads, coroutines',
  thread: 'kernel threads',
  process: 'processes',
  pool: 'pools',
  unknown: 'other',
};

const BY_STYLE: Readonly<Partial<Record<PaperStyle, ConnectionKind>>> = {
  events: 'event',
  completion: 'event',
  'user threads': 'user-thread',
  'kernel threads': 'thread',
  processes: 'process',
  pools: 'pool',
};

/** How `server` holds a connection: as declared by its model, or by the user's servers file, else by its paper row. */
export function kindOf(server: string, plan?: Pick<Plan, 'userServers'>, paperStyle?: string): ConnectionKind {
  const declared = findModel(server)?.connection ?? plan?.userServers?.find((u) => u.name === server)?.connection;
  return declared ?? BY_STYLE[paperStyle as PaperStyle] ?? 'unknown';
}
