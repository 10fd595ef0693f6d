import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import ort from 'onnxruntime-node';
import { ModelStore, availableProviders, parseProviders } from '../../main/engine/sessions.js';
import { OnnxGraph } from '../../main/learning/onnx-graph.js';

// A real (tiny) ONNX model in a real models folder: y = relu(x · W).
const dir = mkdtempSync(path.join(tmpdir(), 'facets-sessions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeModels(sha: (bytes: Uint8Array) => string): void {
  const g = new OnnxGraph('tiny');
  g.addInput('x', ['batch', 2]);
  const w = g.addFloat('w', [1, -1, 2, 0.5], [2, 2]);
  g.addOutput(g.node('Relu', [g.node('MatMul', ['x', w])], {}, ['y']), ['batch', 2]);
  const bytes = g.toBytes();
  mkdirSync(path.join(dir, 'generated'), { recursive: true });
  writeFileSync(path.join(dir, 'generated', 'tiny.onnx'), bytes);
  const entry = {
    name: 'tiny',
    file: 'generated/tiny.onnx',
    description: 'test',
    builder: 'none',
    source: 'none',
    sourceFiles: {},
    licence: 'MIT',
    sha256: sha(bytes),
    input: { name: 'x', shape: ['batch', 2], layout: 'NC', normalisation: 'none' },
    outputs: [{ name: 'y', shape: ['batch', 2], meaning: 'test' }],
    reference: 'none',
  };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ sources: {}, models: [entry] }));
}

test('one cached session per model, on a provider that exists, with the fallbacks recorded', async () => {
  writeModels((b) => createHash('sha256').update(b).digest('hex'));
  const store = new ModelStore(dir, { providers: ['cuda', 'dml', 'coreml', 'cpu'], intraOpThreads: 1 });
  const [a, b] = await Promise.all([store.load('tiny'), store.load('tiny')]);
  assert.equal(a, b, 'the same session object is reused');
  assert.ok(availableProviders().includes(a.provider));
  // Every provider tried before the chosen one left a reason.
  assert.equal(a.fallbacks.length, ['cuda', 'dml', 'coreml', 'cpu'].indexOf(a.provider));
  const out = await a.session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, -1, 0]), [2, 2]) });
  assert.deepEqual([...(out['y']?.data as Float32Array)], [5, 0, 0, 1]);
  await store.release();
});

test('a model whose file does not match the recorded sha256 is refused, naming the model', async () => {
  writeModels(() => '0'.repeat(64));
  const store = new ModelStore(dir, { providers: ['cpu'] });
  await assert.rejects(store.load('tiny'), /model tiny: .* has sha256 [0-9a-f]{64}, expected 0{64}/);
});

test('unknown models and providers are reported clearly', () => {
  writeModels(() => '');
  assert.throws(() => new ModelStore(dir).entry('nope'), /unknown model "nope" \(known: tiny\)/);
  assert.throws(() => parseProviders('cpu,tpu'), /unknown execution provider "tpu"/);
  assert.deepEqual(parseProviders('CUDA, cpu'), ['cuda', 'cpu']);
});
