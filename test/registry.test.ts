import { test } from 'node:test';
import assert from 'node:assert/strict';
import { models } from '../src/servers/registry.js';
import { PAPER_ROWS } from '../src/report/paper.js';

test('every server has a unique name, and the paper row it answers is one the report knows', () => {
  const names = models.map((m) => m.name);
  assert.equal(new Set(names).size, names.length);
  const rows = new Set(PAPER_ROWS.map((r) => r.row));
  for (const m of models) if (m.paperRow !== undefined) assert.ok(rows.has(m.paperRow), `${m.name}: paper row ${m.paperRow}`);
  // Every row of the paper's Figure 2 is answered by at least one of ours.
  for (const row of rows) assert.ok(models.some((m) => m.paperRow === row), `no server answers ${row}`);
});
