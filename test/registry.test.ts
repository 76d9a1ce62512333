import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models } from '../src/servers/registry.js';
import { NEW_ROWS, PAPER_ROWS, paperRow } from '../src/report/paper.js';

test('every server has a unique name, and the paper row it answers is one the report knows', () => {
  const names = models.map((m) => m.name);
  assert.equal(new Set(names).size, names.length);
  const rows = new Set([...PAPER_ROWS, ...NEW_ROWS].map((r) => r.row));
  for (const m of models) if (m.paperRow !== undefined) assert.ok(rows.has(m.paperRow), `${m.name}: paper row ${m.paperRow}`);
  // Every row of the paper's Figure 2, and every row after it, is answered by at least one of ours.
  for (const row of rows) assert.ok(models.some((m) => m.paperRow === row), `no server answers ${row}`);
});

test("today's answers: goroutines the user-threads rows, C++20 coroutines CPC's, io_uring a row of its own", () => {
  const row = (name: string) => models.find((m) => m.name === name)?.paperRow;
  for (const go of ['go-nethttp', 'go-raw']) assert.equal(paperRow(row(go))?.style, 'user threads', go);
  assert.equal(row('native-coro'), 'CPC');
  assert.equal(paperRow(row('native-uring'))?.style, 'completion');
  assert.equal(paperRow('completion')?.slopeMs, undefined, 'the paper has no slope for a row it did not have');
  for (const r of ['ST', 'Pth', 'CPC']) assert.ok(paperRow(r)?.today, `${r} names today's answer`);
});
