// Number formats (src/core/format.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asRoot, bytesText, groupDigits } from '../src/core/format.js';

test('number formats do not depend on the locale', () => {
  assert.equal(groupDigits(1234567.4), '1,234,567');
  assert.equal(groupDigits(-999.6), '-1,000');
  assert.equal(bytesText(512), '512 B');
  assert.equal(bytesText(10240), '10.0 KiB');
  assert.equal(bytesText(-1536), '-1.5 KiB');
  assert.equal(bytesText(3 * 1024 ** 2), '3.0 MiB');
  assert.equal(bytesText(null), '—');
});

test('a fix that needs root reads as root types it (a fresh Debian has no sudo), and after sudo for anyone else', () => {
  assert.equal(asRoot('apt-get install wrk', 0), 'apt-get install wrk');
  assert.equal(asRoot('apt-get install wrk', 1000), 'sudo apt-get install wrk');
});
