// Number formats (src/core/format.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesText, groupDigits } from '../src/core/format.js';

test('number formats do not depend on the locale', () => {
  assert.equal(groupDigits(1234567.4), '1,234,567');
  assert.equal(groupDigits(-999.6), '-1,000');
  assert.equal(bytesText(512), '512 B');
  assert.equal(bytesText(10240), '10.0 KiB');
  assert.equal(bytesText(-1536), '-1.5 KiB');
  assert.equal(bytesText(3 * 1024 ** 2), '3.0 MiB');
  assert.equal(bytesText(null), '—');
});
