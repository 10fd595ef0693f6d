/** How the CLI writes times and figures that may not apply (main/cli/format.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figure, localTime, plural } from '../../main/cli/format.js';

test('times are local, with their offset', () => {
  const iso = '2026-03-04T05:06:07.000Z';
  const d = new Date(iso);
  const text = localTime(iso);
  assert.match(text, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/);
  assert.equal(Number(text.slice(11, 13)), d.getHours());
  assert.equal(Number(text.slice(14, 16)), d.getMinutes());
  const [sign, hh, mm] = [text.at(-6), Number(text.slice(-5, -3)), Number(text.slice(-2))];
  assert.equal((sign === '-' ? -1 : 1) * (hh * 60 + mm) + 0, -d.getTimezoneOffset() + 0);
  assert.equal(localTime(null), 'unknown');
});

test('figures that do not apply read n/a', () => {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  assert.equal(figure(NaN, pct), 'n/a');
  assert.equal(figure(undefined, pct), 'n/a');
  assert.equal(figure(Infinity, pct), 'n/a');
  assert.equal(figure(0, pct), '0.0%');
  assert.equal(plural(1, 'face'), '1 face');
  assert.equal(plural(1200, 'photo'), '1,200 photos');
});
