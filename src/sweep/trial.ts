// One point on a fresh server, outside any run: what the benches measure, with the runner's own code (the server
// started and warmed as a run does, one point measured as a run measures it, everything stopped after).
import type { Point } from '../results/schema.js';
import type { Hosts, ServerSpec } from '../host/hosts.js';
import { failedPoint, measurePoint, serverSpec, sessionWarmUp, type MeasureOptions, type TrialServer } from './session.js';

/**
 * One point on a fresh server, outside any run (the benches): start it, warm it as a run does (unless told a fixed
 * warm-up), measure, stop it and check nothing of it is left. The hosts must be set up (setUpHosts).
 */
export async function runTrial(hosts: Hosts, o: MeasureOptions & { server: TrialServer; spec?: ServerSpec }): Promise<Point | 'aborted'> {
  const started = await hosts.server.start(o.spec ?? serverSpec(o.server, o.plan), o.signal);
  if (started === 'aborted') return 'aborted';
  if ('failed' in started) return failedPoint(o.server, o.load, o.round, started.failed);
  try {
    const warm = o.warmupRequests === undefined ? sessionWarmUp(o.plan, o.load) : undefined;
    const jit = o.server.family === 'typescript';
    const first = warm ? await hosts.client.warm({ url: started.url, ...warm, jit }, o.signal) : undefined;
    if (o.signal?.aborted) return 'aborted';
    const point = await measurePoint({ server: o.server, hosts, started }, o);
    if (point !== 'aborted' && first && point.status === 'ok') point.warmup = { session: first, ...point.warmup };
    return point;
  } finally {
    for (const w of await hosts.server.stop(started.id)) o.onWarning?.(w);
  }
}
