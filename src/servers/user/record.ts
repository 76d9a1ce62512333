// What a run records of the user's servers (run.json's plan): each one's spec, with only the environment variables
// that matter to a measurement, and how `eventbench serve` finds it again; and the URLs measured. Read back by
// ./resume.ts, which starts nothing it names without the user.
import { measurementVariables } from '../../core/environment.js';
import type { ServerModel } from '../types.js';
import type { UserServerModel } from './model.js';
import type { UserServerSpec } from './spec.js';

/**
 * A user's server as a run's plan records it: its spec, and the flags `eventbench serve` was given to find it. Its
 * `env` keeps only the variables that matter to a measurement (core/environment.ts MEASUREMENT_VARIABLES); the
 * others, which may hold secrets, are named in `envNotRecorded`, never their values.
 */
export type RecordedUserServer = UserServerSpec & { serveArgs: string[]; envNotRecorded?: string[] };

/** What a run's plan records of the user's servers (src/results/schema.ts: Plan.userServers, Plan.urls). */
export interface RecordedUserServers {
  userServers?: RecordedUserServer[];
  urls?: { name: string; url: string }[];
}

/** What a run's plan records of the user's servers it measures: their specs and how serve finds them, and URLs. */
export function recordUserServers(models: readonly ServerModel[]): RecordedUserServers {
  const specs = models
    .filter((m): m is UserServerModel => 'spec' in m)
    .map((m): RecordedUserServer => {
      const { env, ...spec } = m.spec;
      if (!env) return { ...spec, serveArgs: m.serveArgs };
      const { kept, left } = measurementVariables(env);
      return { ...spec, env: kept, ...(left.length > 0 ? { envNotRecorded: left } : {}), serveArgs: m.serveArgs };
    });
  const urls = models.filter((m) => m.url !== undefined).map((m) => ({ name: m.name, url: m.url! }));
  return { ...(specs.length > 0 ? { userServers: specs } : {}), ...(urls.length > 0 ? { urls } : {}) };
}
