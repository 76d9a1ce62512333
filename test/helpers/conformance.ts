// The conformance suite every server under test must pass, whatever its concurrency model: the checks of
// src/check/checks.ts (the ones `eventbench check` runs), each as a test, on the real CLI (`eventbench serve MODEL
// --port 0`), plus what `serve` itself promises: one listening line, a clean stop on SIGTERM, --page-bytes.
// Where a model departs from our request rules it says so itself (ServerModel.conformance), measured.
//
//   import { conformance } from './helpers/conformance.js';
//   conformance('events');
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { killTree } from '../../src/core/proc.js';
import { findModel } from '../../src/servers/registry.js';
import { CHECKS, pageProblem } from '../../src/check/checks.js';
import { checkCard, type Card } from '../../src/check/card.js';
import { CHECK_IDLE_TIMEOUT_S, modelContext, serveForCheck, stopServed, type Served } from '../../src/check/target.js';
import { exchange } from '../../src/check/http.js';

export interface ConformanceOptions {
  /** Extra `serve` flags, e.g. ['--workers', '2']. */
  args?: string[];
  /** Why the model cannot run here (a missing optional component: see helpers/optional.ts), or false. */
  skip?: false | string;
}

/**
 * Connections of the descriptor check: 200 (a card opens 1000), 25 for a model that starts a V8 isolate or a Node per
 * connection (200 of those took a minute or two here). A leak per connection shows in either; the suite stays short.
 * The same for the clients at once (a card opens 200): 200 new Nodes at once took 20 s of the suite for `processes`
 * alone, where 25 at once still queue behind each other's start-up.
 */
const connectionsFor = (slow: boolean) => (slow ? 25 : 200);

/**
 * Cards made at once by `conformances`: each card mostly waits (idle clocks, closes), and its servers, clients and
 * descriptor counts are its own; three at once keep a 2-core machine's answers well inside the checks' bounds.
 */
export const CARDS_AT_ONCE = 3;

/** Registers the conformance tests of several models, their cards made CARDS_AT_ONCE at a time. */
export function conformances(models: readonly [name: string, options?: ConformanceOptions][]): void {
  describe('conformance cards', { concurrency: CARDS_AT_ONCE }, () => {
    for (const [name, options] of models) conformance(name, options);
  });
}

/** Registers the conformance tests for one model (a describe block of node:test tests). */
export function conformance(name: string, options: ConformanceOptions = {}): void {
  const model = findModel(name);
  assert.ok(model, `${name} is a server model`);
  const extra = options.args ?? [];
  const connections = connectionsFor(model.slow);

  describe(`conformance: ${name}`, { skip: options.skip ?? false }, () => {
    let served: Served | undefined;
    let card: Card;

    // The card as `eventbench check` makes it (the checks that wait out a long idle clock side by side), each line a test.
    before(async () => {
      served = await serveForCheck(name, ['--idle-timeout', String(CHECK_IDLE_TIMEOUT_S), ...extra]);
      const context = modelContext(model, served, { connections, atOnce: connections });
      card = await checkCard({ server: name, context, form: 'full' });
    });
    after(() => {
      if (served) killTree(served.pid, 'SIGKILL', process.pid);
    });

    test('prints exactly one listening line on stdout', () => {
      assert.equal(served!.child.stdout(), `listening on ${served!.url}\n`);
      assert.match(served!.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    });

    for (const check of CHECKS) {
      test(check.title, (t) => {
        const outcome = card.lines.find((l) => l.id === check.id)!;
        if (outcome.status === 'n/a') t.skip(outcome.reason);
        else assert.equal(outcome.status, 'pass', outcome.reason);
      });
    }

    test('SIGTERM stops it with exit status 0 and leaves no child process', async () => {
      const outcome = await stopServed(served!);
      assert.equal(outcome.status, 'pass', outcome.reason);
    });
  });

  test(`conformance: ${name} serves a 100 000-byte page with --page-bytes`, { skip: options.skip ?? false }, async (t) => {
    const big = await serveForCheck(name, ['--page-bytes', '100000', ...extra]);
    t.after(() => killTree(big.pid, 'SIGKILL', process.pid));
    const c = modelContext(model, big, { pageBytes: 100_000 });
    const r = await exchange(c, 'GET / HTTP/1.0\r\n\r\n', { timeoutMs: c.clientTimeoutMs });
    assert.equal(pageProblem(c, r), undefined);
  });
}
