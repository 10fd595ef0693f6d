/**
 * `facets analyze --draw`: says where it wrote, and the drawing is the photo with a dark label box per
 * face (its estimates with their confidences on a background, inside the image). Real models, a real
 * sample photo (face-api's demo, shipped with a dependency).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ROOT, facets } from '../helpers/cli.js';

test(
  'analyze --draw names the file it wrote; each face gets a dark label box inside the image',
  { timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'facets-draw-'));
    try {
      const photo = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo', 'sample1.jpg');
      const out = path.join(dir, 'drawn.png');
      const r = facets(['analyze', photo, '--json', '--draw', out], { timeoutMs: 280_000 });
      assert.equal(r.code, 0, r.stderr);
      const [result] = JSON.parse(r.stdout) as {
        faces: { box: { x: number; y: number; width: number; height: number } }[];
      }[];
      assert.ok(result && result.faces.length > 0);
      assert.ok(r.stderr.includes(`Drew ${result.faces.length} face(s) of ${photo} into ${out}`), r.stderr);
      const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const original = await sharp(photo).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height], [original.info.width, original.info.height]);
      // Above (or below) each face, the label's background: a run of dark pixels the photo did not have.
      let labelled = 0;
      for (const f of result.faces) {
        // The label sits just above the box, else just below it, else inside its top: rows within 80 px.
        const top = Math.round(f.box.y);
        const bottom = Math.round(f.box.y + f.box.height);
        const rows = Array.from({ length: 80 }, (_, i) => [top - 1 - i, bottom + 1 + i, top + 1 + i]).flat();
        const found = rows.some((y) => {
          if (y < 0 || y >= info.height) return false;
          let dark = 0;
          for (let x = Math.max(0, Math.round(f.box.x)); x < Math.min(info.width, f.box.x + f.box.width); x++) {
            const i = (y * info.width + x) * 3;
            const lum = (data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number);
            const before =
              (original.data[i] as number) + (original.data[i + 1] as number) + (original.data[i + 2] as number);
            if (lum < 150 && lum < before) dark++;
          }
          return dark > f.box.width * 0.3;
        });
        if (found) labelled++;
      }
      assert.equal(labelled, result.faces.length, 'every face has its label box');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
