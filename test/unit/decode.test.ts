import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { DecodeError, decodeForAnalysis, isSrgbProfile, uprightToStored } from '../../main/engine/image/decode.js';

/** A stored 40×20 black JPEG-free PNG with one bright 2×2 marker at stored (30, 4). */
async function marked(orientation: number): Promise<Buffer> {
  const w = 40;
  const h = 20;
  const raw = Buffer.alloc(w * h * 3);
  for (const [x, y] of [
    [30, 4],
    [31, 4],
    [30, 5],
    [31, 5],
  ] as const) {
    raw.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation })
    .toBuffer();
}

test('every EXIF orientation is applied, and upright points map back to stored pixels', async () => {
  for (let orientation = 1; orientation <= 8; orientation++) {
    const img = await decodeForAnalysis(await marked(orientation));
    assert.equal(img.orientation, orientation);
    const swaps = orientation >= 5;
    assert.deepEqual([img.width, img.height], swaps ? [20, 40] : [40, 20], `orientation ${orientation}`);
    // Brightest 2×2 block in the upright image: its centre.
    let best = -1;
    let at: [number, number] = [0, 0];
    for (let y = 0; y < img.height - 1; y++) {
      for (let x = 0; x < img.width - 1; x++) {
        let sum = 0;
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ] as const) {
          sum += img.data[((y + dy) * img.width + x + dx) * 3] as number;
        }
        if (sum > best) [best, at] = [sum, [x + 1, y + 1]];
      }
    }
    const stored = uprightToStored(at[0], at[1], orientation, img.storedWidth, img.storedHeight);
    assert.deepEqual(stored, [31, 5], `orientation ${orientation}: upright ${at} → stored ${stored}`);
  }
});

test('shrink-on-load honours the analysis size and reports the scale', async () => {
  const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
  const img = await decodeForAnalysis(big, { maxSide: 1200 });
  assert.deepEqual([img.width, img.height], [1200, 800]);
  assert.equal(img.scale, 0.4);
  const grey = await decodeForAnalysis(big, { maxSide: 300, greyscale: true });
  assert.equal(grey.channels, 3);
  assert.equal(grey.data.length, 300 * 200 * 3);
});

test('unreadable and oversized inputs fail with a DecodeError saying why', async () => {
  await assert.rejects(decodeForAnalysis(Buffer.from('this is not an image')), (e: unknown) => {
    return e instanceof DecodeError && e.reason === 'unreadable';
  });
  const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#000' } })
    .png()
    .toBuffer();
  await assert.rejects(decodeForAnalysis(png, { maxInputPixels: 10_000 }), /200×100 .* exceeds/);
});

test('colour profiles: sRGB is recognised and not converted again; Display P3 is converted to sRGB', async () => {
  const red = () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#c86432' } });
  const srgb = await red().withIccProfile('srgb').jpeg({ quality: 100 }).toBuffer();
  const p3 = await red().withIccProfile('p3').png().toBuffer();
  const iccOf = async (b: Buffer) => (await sharp(b).metadata()).icc as Buffer;
  assert.equal(isSrgbProfile(await iccOf(srgb)), true);
  assert.equal(isSrgbProfile(await iccOf(p3)), false);
  assert.equal(isSrgbProfile(Buffer.alloc(64)), false);
  // The sRGB file decodes to exactly what a full colour transform gives.
  const fast = await decodeForAnalysis(srgb);
  const transformed = await sharp(srgb).toColourspace('srgb').removeAlpha().raw().toBuffer();
  assert.deepEqual(Buffer.from(fast.data), transformed);
  // Written as P3, the colour is stored as other numbers; decoding converts them back to sRGB.
  const stored = await sharp(p3, { ignoreIcc: true }).removeAlpha().raw().toBuffer();
  const wide = await decodeForAnalysis(p3);
  const rgb = [wide.data[0], wide.data[1], wide.data[2]] as [number, number, number];
  assert.notDeepEqual([stored[0], stored[1], stored[2]], rgb);
  assert.ok(
    rgb.every((v, i) => Math.abs(v - ([200, 100, 50][i] as number)) <= 2),
    `P3 file of sRGB (200, 100, 50) decoded as ${rgb.join(', ')} (stored ${stored[0]}, ${stored[1]}, ${stored[2]})`,
  );
});

test('a JPEG with corrupt data the decoder repairs is decoded and flagged; a healthy one is not', async () => {
  // A photo-like JPEG made here (noise over gradients, so the entropy-coded data is long).
  const w = 640;
  const h = 480;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = ((i % (w * 3)) / 5 + ((i * 2654435761) >>> 24) / 4) & 0xff;
  const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  const healthy = await decodeForAnalysis(jpeg);
  assert.equal(healthy.damage, undefined);
  const mid = Math.floor(jpeg.length * 0.6);
  const damaged = {
    // Cut short (an interrupted copy), but ending with an end-of-image marker: libjpeg only warns.
    'cut short': Buffer.concat([jpeg.subarray(0, mid), Buffer.from([0xff, 0xd9])]),
    // A stray restart marker inside the entropy-coded data.
    'stray marker': Buffer.concat([jpeg.subarray(0, mid), Buffer.from([0xff, 0xd3]), jpeg.subarray(mid)]),
  };
  for (const [what, bytes] of Object.entries(damaged)) {
    const image = await decodeForAnalysis(bytes);
    assert.deepEqual([image.uprightWidth, image.uprightHeight], [w, h], what);
    assert.match(image.damage ?? '', /^corrupt JPEG data: the decoder repaired it/, what);
  }
  // Damage the decoder cannot repair is still an error, as before.
  await assert.rejects(decodeForAnalysis(jpeg.subarray(0, mid)), DecodeError);
});
