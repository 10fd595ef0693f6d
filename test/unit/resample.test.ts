import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AreaSampler, rotateImage, rotationGeometry } from '../../main/engine/image/resample.js';

// 4×2 single-channel image:  1 2 3 4 / 5 6 7 8
const image = { data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), width: 4, height: 2, channels: 1 };
const identity = (v: number) => v;

test('downscaling averages the covered area exactly', () => {
  const out = new Float32Array(2);
  new AreaSampler(image).crop(0, 0, 4, 2, 2, 1, out, 0, identity);
  assert.deepEqual([...out], [(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4]);
});

test('parts of a crop outside the image are zero padded', () => {
  const out = new Float32Array(4);
  new AreaSampler(image).crop(-2, 0, 4, 2, 2, 2, out, 0, identity);
  assert.deepEqual([...out], [0, (1 + 2) / 2, 0, (5 + 6) / 2]);
});

test('the transform is applied and the crop lands at the offset, NHWC', () => {
  const rgb = { data: Uint8Array.from([255, 0, 127, 0, 255, 128]), width: 2, height: 1, channels: 3 };
  const out = new Float32Array(8).fill(9);
  new AreaSampler(rgb).crop(0, 0, 2, 1, 2, 1, out, 2, (v) => (v - 127.5) * 0.0078125);
  assert.deepEqual([...out], [9, 9, 0.99609375, -0.99609375, -0.00390625, -0.99609375, 0.99609375, 0.00390625]);
});

test('upscaling samples bilinearly between pixel centres', () => {
  const out = new Float32Array(8);
  new AreaSampler(image).crop(0, 0, 2, 1, 4, 2, out, 0, identity);
  // Source pixels 1 and 2 on row 0; below row 0 lies row 1 (5, 6) — y maps to -0.25 and 0.25.
  assert.equal(out[1], 0.75 * (0.75 * 1 + 0.25 * 2) + 0.25 * 0);
  assert.ok(out.every((v) => Number.isFinite(v)));
});

test('fitSimilarity recovers an exact rotation + scale + shift, and inverts it', async () => {
  const { fitSimilarity, invertSimilarity } = await import('../../main/engine/image/resample.js');
  const t = { a: 2 * Math.cos(0.3), b: 2 * Math.sin(0.3), tx: 5, ty: -7 };
  const pts: [number, number][] = [
    [1, 2],
    [10, 3],
    [4, 9],
    [-3, 5],
    [7, 7],
  ];
  const moved = pts.map(([x, y]) => [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty] as [number, number]);
  const fit = fitSimilarity(pts, moved);
  for (const k of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(fit[k] - t[k]) < 1e-9, k);
  const inv = invertSimilarity(fit);
  const back = fitSimilarity(moved, pts);
  for (const k of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(inv[k] - back[k]) < 1e-9, k);
});

test('warp with the identity reproduces the image; with a shift it moves it', () => {
  const sampler = new AreaSampler(image);
  const out = new Float32Array(8);
  sampler.warp({ a: 1, b: 0, tx: 0, ty: 0 }, 4, 2, out, 0, identity);
  assert.deepEqual([...out], [1, 2, 3, 4, 5, 6, 7, 8]);
  sampler.warp({ a: 1, b: 0, tx: 1, ty: 0 }, 4, 2, out, 0, identity);
  assert.deepEqual([...out], [2, 3, 4, 0, 6, 7, 8, 0]);
});

test('turning an image a quarter turn clockwise moves every pixel exactly', () => {
  // 3×2:  1 2 3 / 4 5 6  →  turned clockwise (2×3):  4 1 / 5 2 / 6 3
  const small = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 3, height: 2, channels: 1 };
  const turned = rotateImage(small, 90);
  assert.deepEqual([turned.image.width, turned.image.height], [2, 3]);
  assert.deepEqual([...turned.image.data], [4, 1, 5, 2, 6, 3]);
  // Pixel centres map both ways: source (0.5, 0.5) — the "1" — sits at turned (1.5, 0.5).
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - (b[i] as number)) < 1e-9);
  assert.ok(close(turned.fromSource(0.5, 0.5), [1.5, 0.5]));
  assert.ok(close(turned.toSource(1.5, 0.5), [0.5, 0.5]));
});

test('any turn: the canvas holds the whole image, and the point mappings invert each other', () => {
  const g = rotationGeometry(400, 300, 30);
  const c = Math.cos(Math.PI / 6);
  const s = Math.sin(Math.PI / 6);
  assert.equal(g.width, Math.ceil(400 * c + 300 * s));
  assert.equal(g.height, Math.ceil(400 * s + 300 * c));
  for (const [x, y] of [
    [0, 0],
    [400, 300],
    [123.5, 77.25],
  ] as const) {
    const [u, v] = g.fromSource(x, y);
    assert.ok(u >= -1e-9 && v >= -1e-9 && u <= g.width + 1e-9 && v <= g.height + 1e-9);
    const [bx, by] = g.toSource(u, v);
    assert.ok(Math.abs(bx - x) < 1e-9 && Math.abs(by - y) < 1e-9);
  }
  // The centre stays the centre.
  assert.deepEqual(
    g.fromSource(200, 150).map((v) => Math.round(v * 1e9) / 1e9),
    [g.width / 2, g.height / 2],
  );
});
