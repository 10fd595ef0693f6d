import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readManifest } from '../../main/engine/manifest.js';
import { sha256File } from '../../models/build/sources.js';
import { facets, ROOT } from '../helpers/cli.js';

const manifest = readManifest(path.join(ROOT, 'models'));

test('the manifest records a source, licence, hash and I/O contract for every model', () => {
  const required = ['pnet', 'rnet', 'onet', 'gear', 'emotion', 'faceres', 'facenet128'];
  for (const name of required)
    assert.ok(
      manifest.models.some((m) => m.name === name),
      `manifest lists ${name}`,
    );
  for (const m of manifest.models) {
    assert.ok(manifest.sources[m.source], `${m.name}: source ${m.source} is pinned`);
    assert.match(m.sha256, /^[0-9a-f]{64}$/, `${m.name}: sha256 recorded`);
    for (const [file, sha] of Object.entries(m.sourceFiles)) assert.match(sha, /^[0-9a-f]{64}$/, `${m.name}: ${file}`);
    assert.ok(m.licence && m.input.name && m.outputs.length > 0, `${m.name}: licence and I/O`);
  }
});

test('setup generated every .onnx with its recorded sha256', () => {
  for (const m of manifest.models) {
    const file = path.join(ROOT, 'models', m.file);
    assert.ok(existsSync(file), `${m.name}: ${m.file} exists`);
    assert.equal(sha256File(file), m.sha256, `${m.name}: sha256 matches the manifest`);
  }
});

test('facets models --json lists every model, loaded, with its provider', () => {
  const r = facets(['models', '--json'], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as { name: string; sha256Status: string; provider: string }[];
  assert.deepEqual(
    listed.filter((m) => !m.name.startsWith('heads')).map((m) => m.name),
    manifest.models.map((m) => m.name),
  );
  // The shipped heads are listed beside the networks (a fresh clone has no user heads).
  assert.ok(
    listed.some((m) => m.name === 'heads-shipped'),
    'the shipped heads are listed',
  );
  for (const m of listed) {
    assert.equal(m.sha256Status, 'ok', m.name);
    // This machine has no GPU: every model must have fallen back to the CPU provider.
    assert.equal(m.provider, 'cpu', m.name);
  }
});
