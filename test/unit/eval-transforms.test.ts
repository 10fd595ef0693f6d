import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import type { DetectionImage } from '../../research/eval/datasets.js';
import { mosaicSet, turnedSet } from '../../research/eval/transforms.js';

const dir = mkdtempSync(path.join(tmpdir(), 'facets-transforms-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A grey photo with one white square "face" at the given box. */
async function photo(
  name: string,
  width: number,
  height: number,
  face: { x1: number; y1: number; x2: number; y2: number },
) {
  const file = path.join(dir, name);
  const square = await sharp({
    create: { width: face.x2 - face.x1, height: face.y2 - face.y1, channels: 3, background: '#fff' },
  })
    .png()
    .toBuffer();
  await sharp({ create: { width, height, channels: 3, background: '#000' } })
    .composite([{ input: square, left: face.x1, top: face.y1 }])
    .png()
    .toFile(file);
  return { path: file, width, height, faces: [face] } satisfies DetectionImage;
}

/** Bounding box of the bright pixels of an encoded photo. */
async function brightBox(bytes: Buffer) {
  const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
  let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if ((data[y * info.width + x] as number) > 128) {
        x1 = Math.min(x1, x);
        y1 = Math.min(y1, y);
        x2 = Math.max(x2, x + 1);
        y2 = Math.max(y2, y + 1);
      }
    }
  }
  return { x1, y1, x2, y2, width: info.width, height: info.height };
}

test('a turned photo carries its face where the turned box says, and the box keeps its size', async () => {
  const img = await photo('a.png', 200, 100, { x1: 20, y1: 30, x2: 60, y2: 70 });
  const [turned] = turnedSet([img], 90);
  assert.ok(turned?.load);
  const found = await brightBox(await turned.load());
  assert.deepEqual([found.width, found.height], [turned.width, turned.height]);
  assert.deepEqual([turned.width, turned.height], [100, 200]);
  const face = turned.faces[0];
  assert.ok(face);
  // Clockwise: the face's centre (40, 50) moves to (100 − 50, 40) = (50, 40); the box stays 40 × 40.
  assert.deepEqual(
    [face.x1, face.y1, face.x2, face.y2].map((v) => Math.round(v * 1e9) / 1e9),
    [30, 20, 70, 60],
  );
  assert.ok(Math.abs(found.x1 - face.x1) <= 1 && Math.abs(found.y2 - face.y2) <= 1);
  assert.ok(Math.abs((face.roll ?? 0) - Math.PI / 2) < 1e-12);
});

test('a mosaic tiles photos into cells and moves their faces with them', async () => {
  const a = await photo('m1.png', 120, 80, { x1: 10, y1: 10, x2: 30, y2: 30 });
  const b = await photo('m2.png', 100, 90, { x1: 50, y1: 40, x2: 70, y2: 60 });
  const c = await photo('m3.png', 60, 60, { x1: 5, y1: 5, x2: 25, y2: 25 });
  const mosaics = mosaicSet([a, b, c], 2);
  assert.equal(mosaics.length, 1);
  const m = mosaics[0];
  assert.ok(m?.load);
  assert.deepEqual([m.width, m.height], [240, 180]); // cells of 120 × 90, two across, two down
  assert.deepEqual(
    m.faces.map((f) => [f.x1, f.y1, f.x2, f.y2]),
    [
      [10, 10, 30, 30],
      [170, 40, 190, 60],
      [5, 95, 25, 115],
    ],
  );
  const bytes = await m.load();
  const meta = await sharp(bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [240, 180]);
  // The third photo's face is bright where its moved box says.
  const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
  assert.ok((data[105 * info.width + 15] as number) > 200);
  assert.ok((data[105 * info.width + 40] as number) < 60);
});
