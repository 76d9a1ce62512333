// The agent protocol's shapes and deadlines (src/host/protocol.ts, on src/core/shape.ts): every answer is checked
// before the runner reads it, a wrong one named by the path of its field, what was expected and what came; and each
// request's deadline comes from what it asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { environment } from '../src/core/environment.js';
import { arr, int, nullable, num, obj, oneOf, opt, literal, str } from '../src/core/shape.js';
import { ANSWER_MARGIN_MS, answerProblem, answerWithinMs } from '../src/host/protocol.js';

test('shapes: a problem names the path of the field, what was expected and what came; other fields are allowed', () => {
  const s = obj({ a: int, b: opt(arr(str)), c: nullable(num), d: oneOf([literal('x'), obj({ e: str })]) });
  assert.equal(s.problem({ a: 1, c: null, d: 'x', extra: true }, 'v'), undefined);
  assert.equal(s.problem({ a: 1.5, c: 1, d: 'x' }, 'v'), 'v.a: expected a whole number, got 1.5');
  assert.equal(s.problem({ a: 1, b: ['x', 2], c: 1, d: 'x' }, 'v'), 'v.b[1]: expected a string, got 2');
  assert.equal(s.problem({ a: 1, d: 'x' }, 'v'), 'v.c: is missing (expected a number or null)');
  assert.equal(s.problem({ a: 1, c: Number.NaN, d: 'x' }, 'v'), 'v.c: expected a number or null, got NaN');
  assert.equal(s.problem([], 'v'), 'v: expected an object, got []');
  assert.match(s.problem({ a: 1, c: 1, d: 'y' }, 'v')!, /^v\.d: expected "x", or an object, got "y"$/);
  assert.equal(str.problem('x'.repeat(100), 'v'), undefined);
  assert.match(int.problem('x'.repeat(100), 'v')!, /^v: expected a whole number, got "x{56}\.\.\.$/);
});

test("answers: the envelope, an error without its fields, an unknown id, and each command's result are checked", () => {
  const waits = new Map<number, string>([
    [1, 'clock'],
    [2, 'server.start'],
    [3, 'client.load'],
    [4, 'server.connections'],
    [5, 'server.available'],
  ]);
  const cmdOf = (id: number) => waits.get(id);
  const cases: [unknown, string | undefined][] = [
    [{ id: 1, ok: true, result: { monoMs: 5, wallMs: 6 } }, undefined],
    [{ id: 1, ok: false }, 'the answer to clock.error: expected an object, got nothing'],
    [{ id: 1, ok: false, error: { code: 'EB_X' } }, 'the answer to clock.error.message: is missing (expected a string)'],
    [{ id: 1, ok: true }, 'the answer to clock.result: is missing'],
    [{ id: 1, ok: true, result: { monoMs: 'soon', wallMs: 6 } }, 'the answer to clock.result.monoMs: expected a number, got "soon"'],
    [{ id: '1', ok: true }, 'the answer.id: expected a whole number, got "1"'],
    [{ id: 9, ok: true, result: null }, 'an answer with id 9, and no request of that id waits'],
    [[1, 2], 'the answer: expected an object, got [1,2]'],
    [{ id: 2, ok: true, result: 'aborted' }, undefined],
    [{ id: 2, ok: true, result: { failed: 'no' } }, undefined],
    [
      { id: 2, ok: true, result: { id: 's1', url: 'http://127.0.0.1:1/', backlog: { requested: 1, effective: 1 }, warnings: [] } },
      undefined,
    ],
    [{ id: 2, ok: true, result: { id: 's1', url: 7 } }, 'the answer to server.start.result.url: expected a string, got 7'],
    [{ id: 2, ok: true, result: { failed: 3 } }, 'the answer to server.start.result.failed: expected a string, got 3'],
    [{ id: 3, ok: true, result: { error: 'it failed' } }, undefined],
    [
      { id: 3, ok: true, result: { result: { schema: 'eventbench.load/3' } } },
      'the answer to client.load.result.result.engine: is missing (expected "eventbench" or "ab")',
    ],
    [
      { id: 4, ok: true, result: { established: 'many' } },
      'the answer to server.connections.result.established: expected a whole number, got "many"',
    ],
    [
      { id: 5, ok: true, result: { ok: false, reason: 'gone' } },
      'the answer to server.available.result.hint: is missing (expected a string)',
    ],
  ];
  for (const [raw, want] of cases) assert.equal(answerProblem(raw, cmdOf), want, JSON.stringify(raw));
  assert.equal(answerProblem({ id: 1, ok: true, result: { monoMs: 1, wallMs: 2, environment: environment() } }, cmdOf), undefined);
});

test("deadlines: a start's ready timeout, a load's length and a warm-up's bounds, plus the margin; a command's own bound else", () => {
  const args = (a: unknown) => ({ args: [a] });
  assert.equal(answerWithinMs('server.start', args({ readyTimeoutMs: 5000 })), 5000 + ANSWER_MARGIN_MS);
  assert.equal(answerWithinMs('client.load', args({ limitS: 26 })), 26_000 + ANSWER_MARGIN_MS);
  const policy = { maxS: 40 };
  assert.equal(answerWithinMs('client.warm', args({ policy, timeoutS: 5 })), 45_000 + ANSWER_MARGIN_MS);
  assert.equal(answerWithinMs('load', { options: { durationS: 10, timeoutS: 2 } }), 12_000 + ANSWER_MARGIN_MS);
  assert.equal(answerWithinMs('load', { options: { requests: 100, concurrency: 10, timeoutS: 3 } }), 30_000 + ANSWER_MARGIN_MS);
  assert.equal(answerWithinMs('clock', {}), 10_000);
  assert.equal(answerWithinMs('server.stopSampling', { args: ['s1'] }), 30_000);
  assert.equal(answerWithinMs('server.exitReason', { args: ['s1'] }), 15_000);
});
