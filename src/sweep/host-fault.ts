// A host fault as a value: the call another host failed (src/host/link.ts), kept apart from the errors that are bugs.
import { HostError } from '../core/errors.js';

/**
 * Another host that failed mid-call (its agent or its ssh gone, stuck or garbled, src/host/link.ts) fails that call
 * with one line naming it: the engine measures that step again on a fresh link, once (runSweepRetrying). Any other
 * error is a bug, and goes up.
 */
export async function hostFault<T>(call: Promise<T>): Promise<T | HostFault> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof HostError) return new HostFault(err);
    throw err;
  }
}

export class HostFault {
  constructor(readonly error: HostError) {}

  get why(): string {
    return this.error.message;
  }
}
