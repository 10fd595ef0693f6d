import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { DecodeError } from '../../main/engine/image/decode.js';
import {
  decodePhoto,
  decodedFromRgba,
  largestEmbeddedJpeg,
  readableError,
  withOrientation,
} from '../../main/engine/image/photos.js';
import { photoKind } from '../../main/engine/image/formats.js';
import { exifDate, readMetadata } from '../../main/library/metadata.js';
import { ROOT } from '../helpers/cli.js';

const sample1 = readFileSync(path.join(ROOT, 'node_modules/@vladmandic/face-api/demo/sample1.jpg'));

async function rejectsWith(promise: Promise<unknown>, reason: DecodeError['reason'], message: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DecodeError, `a DecodeError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    return true;
  });
}

test('photoKind: by extension, case-insensitive; other files are not photos', () => {
  assert.equal(photoKind('/a/B.JPG'), 'sharp');
  assert.equal(photoKind('x.tiff'), 'sharp');
  assert.equal(photoKind('x.HEIC'), 'heic');
  assert.equal(photoKind('x.cr2'), 'raw');
  assert.equal(photoKind('x.dng'), 'raw');
  assert.equal(photoKind('x.txt'), null);
  assert.equal(photoKind('jpg'), null);
});

test('camera RAW: the largest embedded baseline JPEG is found; lossless sensor data is not a preview', async () => {
  const thumb = await sharp(sample1).resize(160).jpeg().toBuffer();
  // A lossless JPEG (SOF3), as CR2/DNG store sensor data: bigger than the preview, but not a picture.
  const lossless = Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xc3, 0x00, 0x0b, 8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
    Buffer.from([0xff, 0xda, 0x00, 0x08, 1, 1, 0, 0, 0x3f, 0]),
    Buffer.alloc(400_000, 0x55),
    Buffer.from([0xff, 0xd9]),
  ]);
  const raw = Buffer.concat([
    Buffer.from('II*\0'),
    thumb,
    Buffer.alloc(999, 0xff),
    lossless,
    sample1,
    Buffer.from('end'),
  ]);
  const found = largestEmbeddedJpeg(raw);
  assert.ok(found?.equals(sample1));
  assert.equal(largestEmbeddedJpeg(Buffer.from('no jpeg here at all')), null);

  const decoded = await decodePhoto(raw, 'raw');
  assert.deepEqual([decoded.uprightWidth, decoded.uprightHeight], [1920, 1280]);
  await rejectsWith(
    decodePhoto(Buffer.concat([Buffer.from('II*\0'), lossless]), 'raw'),
    'unsupported',
    /no JPEG preview/,
  );
});

test("camera RAW: the file's EXIF orientation applies to a preview that has none of its own", async () => {
  const bare = await sharp(sample1).resize(300).jpeg().toBuffer(); // no EXIF block
  const raw = Buffer.concat([Buffer.from('MM\0*'), bare]);
  const decoded = await decodePhoto(raw, 'raw', {}, 6);
  assert.equal(decoded.orientation, 6);
  assert.deepEqual([decoded.uprightWidth, decoded.uprightHeight], [200, 300]);
  const tagged = withOrientation(bare, 8);
  assert.equal((await sharp(tagged).metadata()).orientation, 8);
  assert.deepEqual(await sharp(tagged).raw().toBuffer(), await sharp(bare).raw().toBuffer(), 'pixels untouched');
});

test('HEIC: libheif first, libvips for AV1-coded HEIF; garbage gets a clear error', async () => {
  const av1 = await sharp(sample1).resize(320).heif({ compression: 'av1', effort: 0 }).toBuffer();
  const decoded = await decodePhoto(av1, 'heic');
  assert.equal(decoded.uprightWidth, 320);
  await rejectsWith(
    decodePhoto(Buffer.from('....ftypheic and nothing'), 'heic'),
    'unreadable',
    /HEIC\/HEIF image could not be decoded/,
  );
});

test('decodedFromRgba: drops alpha, shrinks to maxSide, reports the full size', async () => {
  const w = 400;
  const h = 100;
  const rgba = new Uint8ClampedArray(w * h * 4).fill(200);
  const image = await decodedFromRgba(rgba, w, h, { maxSide: 200 }, 'heif');
  assert.deepEqual([image.width, image.height, image.channels], [200, 50, 3]);
  assert.deepEqual([image.uprightWidth, image.uprightHeight, image.orientation], [400, 100, 1]);
  assert.equal(image.data.length, 200 * 50 * 3);
  assert.equal(image.scale, 0.5);
});

test('empty, truncated and oversized files are refused with a reason', async () => {
  await rejectsWith(decodePhoto(Buffer.alloc(0), 'sharp'), 'unreadable', /empty file/);
  await rejectsWith(decodePhoto(sample1.subarray(0, 20_000), 'sharp'), 'unreadable', /premature end/);
  const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#888' } })
    .png()
    .toBuffer();
  await rejectsWith(
    decodePhoto(big, 'sharp', { maxInputPixels: 10_000_000 }),
    'too-large',
    /12 MP\) exceeds the 10 MP limit/,
  );
});

test('a broken file gets the same error every time, even with decodes failing side by side', async () => {
  // libvips keeps one error buffer per process: concurrent failures used to garble each other's text.
  const truncatedJpeg = sample1.subarray(0, 40_000);
  const truncatedPng = (await sharp(sample1).resize(300).png().toBuffer()).subarray(0, 5_000);
  const corrupt = Buffer.concat([sample1.subarray(0, 2000), Buffer.alloc(20_000), sample1.subarray(22_000)]);
  const files = [truncatedJpeg, truncatedPng, corrupt];
  const messages = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      decodePhoto(files[i % 3] as Buffer, 'sharp').then(
        () => 'decoded',
        (err: Error) => err.message,
      ),
    ),
  );
  const byFile = files.map((_, f) => new Set(messages.filter((__, i) => i % 3 === f)));
  assert.deepEqual(byFile[0], new Set(['cannot decode: premature end of JPEG image (the file is truncated)']));
  assert.equal(byFile[1]?.size, 1);
  assert.match([...(byFile[1] ?? [])][0] ?? '', /premature end of PNG image \(the file is truncated\)$/);
  assert.deepEqual(byFile[2], new Set(['not a readable image: corrupt JPEG data (the decoder could not read it)']));
});

test('readableError: one line, no libvips loader prefixes, no repeats', () => {
  const vips =
    'not a readable image: Input buffer has corrupt header: VipsJpeg: premature end of JPEG image\n' +
    'VipsJpeg: JPEG datastream contains no image\nVipsJpeg: premature end of JPEG image\n' +
    'VipsJpeg: JPEG datastream contains no image';
  assert.equal(
    readableError(vips),
    'not a readable image: Input buffer has corrupt header: premature end of JPEG image; JPEG datastream contains no image',
  );
});

test('metadata: date taken, camera and orientation from EXIF; nothing from a file without it', async () => {
  const jpeg = await sharp(sample1)
    .resize(64)
    .withMetadata({ orientation: 3 })
    .withExif({ IFD0: { Make: 'Canon', Model: 'Canon EOS R5' }, IFD2: { DateTimeOriginal: '2021:07:04 15:30:12' } })
    .jpeg()
    .toBuffer();
  assert.deepEqual(await readMetadata(jpeg), {
    takenAt: '2021-07-04T15:30:12',
    camera: 'Canon EOS R5',
    orientation: 3,
  });
  assert.deepEqual(await readMetadata(Buffer.from('plain text')), { takenAt: null, camera: null, orientation: null });
  assert.equal(exifDate('0000:00:00 00:00:00'), null);
  assert.equal(exifDate('2021:02:30 10:00:00'), null);
  assert.equal(exifDate('2020:02:29 23:59:59'), '2020-02-29T23:59:59');
});
