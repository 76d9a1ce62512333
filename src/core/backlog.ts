// The one home of the kernel's cap on listen(2) backlogs (net.core.somaxconn): what it is, the backlog a server
// gets under it, the note when it lowers one, and the one command that raises it.
import { somaxconn } from './sysctl.js';
import { asRoot } from './format.js';

/** The largest listen backlog eventbench asks for (`serve` and `run` both take --backlog up to this). */
export const MAX_BACKLOG = 65_535;

export { somaxconn };

/** The listen backlog the kernel allows: `requested` capped by somaxconn (and by `serverCap`, if any). */
export function cappedBacklog(requested: number, serverCap = Infinity): number {
  return Math.min(requested, serverCap, somaxconn() ?? Infinity);
}

/** The command that lets a server queue `needed` connections (never below 4096, today's kernel default). */
export function somaxconnFix(needed: number): string {
  return asRoot(`sysctl -w net.core.somaxconn=${Math.max(4096, needed)}`);
}

/** The backlog in force for a requested one, and a note when the kernel lowers it or cannot say. */
export function backlogInForce(requested: number): { backlog: number; notes: string[] } {
  const cap = somaxconn();
  if (cap === undefined)
    return { backlog: requested, notes: [`cannot read net.core.somaxconn: the kernel may lower the backlog of ${requested}`] };
  if (cap >= requested) return { backlog: requested, notes: [] };
  return {
    backlog: cap,
    notes: [`backlog ${requested} lowered to ${cap} by the kernel's net.core.somaxconn; raise it with \`${somaxconnFix(requested)}\``],
  };
}
