import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { facets, ROOT } from '../helpers/cli.js';

const version = (JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }).version;

test('--version prints the package version', () => {
  const r = facets(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});

test('--help lists the commands', () => {
  const r = facets(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: facets <command>/);
  assert.match(r.stdout, /^\s+models /m);
});

test('an unknown command exits 2 with usage on stderr', () => {
  const r = facets(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

test('a command --help prints its own usage', () => {
  const r = facets(['models', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: facets models/);
});
