import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models, runtimeVariant } from '../src/servers/registry.js';
import { CONNECTION_KINDS } from '../src/servers/types.js';
import { NEW_ROWS, PAPER_ROWS, paperRow } from '../src/servers/paper.js';

test('every server has a unique name, and the paper row it answers is one the report knows', () => {
  const names = models.map((m) => m.name);
  assert.equal(new Set(names).size, names.length);
  const rows = new Set([...PAPER_ROWS, ...NEW_ROWS].map((r) => r.row));
  for (const m of models) if (m.paperRow !== null) assert.ok(rows.has(m.paperRow), `${m.name}: paper row ${m.paperRow}`);
  // Every row of the paper's Figure 2, and every row after it, is answered by at least one of ours.
  for (const row of rows)
    assert.ok(
      models.some((m) => m.paperRow === row),
      `no server answers ${row}`,
    );
});

test('every model declares its paper row (or null), how it holds a connection, whether it is slow; variants inherit them', () => {
  // Read at run time as a plain object, so that a model built without the type's help (a spread, a factory) is caught too.
  const fields = (m: object) => m as Record<string, unknown>;
  for (const m of models) {
    const f = fields(m);
    const row = 'paperRow' in f && (f.paperRow === null || typeof f.paperRow === 'string');
    assert.ok(row, `${m.name}: paperRow must be a row of the paper or null`);
    const kinds = CONNECTION_KINDS.join(', ');
    assert.ok(
      CONNECTION_KINDS.includes(f.connection as never),
      `${m.name}: connection must be one of ${kinds}, got ${String(f.connection)}`,
    );
    assert.equal(typeof f.slow, 'boolean', `${m.name}: slow must be true or false`);
  }
  const events = runtimeVariant('events@bun')!;
  const base = models.find((m) => m.name === 'events')!;
  assert.deepEqual([events.paperRow, events.connection, events.slow], [base.paperRow, base.connection, base.slow]);
  // The slow ones are those that start a runtime per connection: a V8 isolate (threads), a Node process (processes).
  assert.deepEqual(
    models.filter((m) => m.slow).map((m) => m.name),
    ['threads', 'processes'],
  );
});

test("today's answers: goroutines the user-threads rows, C++20 coroutines CPC's, io_uring a row of its own", () => {
  const row = (name: string) => models.find((m) => m.name === name)?.paperRow ?? undefined;
  for (const go of ['go-nethttp', 'go-raw']) assert.equal(paperRow(row(go))?.style, 'user threads', go);
  assert.equal(row('native-coro'), 'CPC');
  assert.equal(paperRow(row('native-uring'))?.style, 'completion');
  assert.equal(paperRow('completion')?.slopeMs, undefined, 'the paper has no slope for a row it did not have');
  for (const r of ['ST', 'Pth', 'CPC']) assert.ok(paperRow(r)?.today, `${r} names today's answer`);
});
