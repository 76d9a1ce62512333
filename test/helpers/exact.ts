// A small run whose every number is known by hand: three servers on exact lines, one client-bound point.
import type { Point } from '../../src/results/schema.js';
import { point, runInfo } from './results.js';

export function exactRun(withLighttpd = true) {
  const points: Point[] = [];
  for (const l of [100, 200, 300]) {
    points.push(
      point({ server: 'native-st', family: 'native', paperRow: 'ST', load: l, meanLatencyMs: 1 + 0.2 * l, peakRssBytes: 1e6 + 10240 * l }),
    );
    if (withLighttpd)
      points.push(
        point({
          server: 'lighttpd',
          family: 'production',
          paperRow: 'lighttpd',
          load: l,
          meanLatencyMs: 2 + 0.25 * l,
          peakRssBytes: 2e6 + 2048 * l,
        }),
      );
    points.push(
      point({
        server: 'threads',
        family: 'typescript',
        paperRow: 'NPTL',
        load: l,
        meanLatencyMs: 0.5 * l,
        peakRssBytes: 5e6 + 102400 * l,
        errors: l === 200 ? 40 : 0,
      }),
    );
  }
  // Held back by the client: l_m = 300 of 400, so it stays out of the fit.
  points.push(
    point({
      server: 'threads',
      family: 'typescript',
      paperRow: 'NPTL',
      load: 400,
      measuredLoad: 300,
      meanLatencyMs: 150,
      peakRssBytes: 5e6 + 102400 * 300,
    }),
  );
  const servers = withLighttpd ? ['native-st', 'lighttpd', 'threads'] : ['native-st', 'threads'];
  return { run: runInfo(servers, [100, 200, 300, 400]), points };
}
