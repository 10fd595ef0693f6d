/**
 * Variations of a detection set that ask what the set itself does not: faces rolled further than any
 * in afw-dev (`turnedSet`), and small faces in large photos (`mosaicSet`), so that the detector's extra
 * rotated passes and the default analysis size are chosen by measurement. The photos are made in
 * memory from the set's own (stored-orientation) pixels and their boxes moved with them.
 */
import sharp from 'sharp';
import { carryBox } from '../../main/engine/detection/geometry.js';
import { rotateImage, rotationGeometry } from '../../main/engine/image/resample.js';
import type { DetectionImage } from './datasets.js';

type Face = DetectionImage['faces'][number];

async function storedPixels(file: string) {
  // No .rotate(): the annotations are in the stored orientation, and so are these pixels.
  const { data, info } = await sharp(file)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

const encode = (data: Uint8Array, width: number, height: number) =>
  sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();

/**
 * Every photo turned clockwise by `degrees` about its centre (canvas enlarged, corners black). A face's
 * box keeps its size around its turned centre — the convention of the detector's own turned passes —
 * and its roll grows by the angle.
 */
export function turnedSet(images: readonly DetectionImage[], degrees: number): DetectionImage[] {
  return images.map((img) => {
    const probe = rotationGeometry(img.width, img.height, degrees);
    return {
      path: img.path,
      width: probe.width,
      height: probe.height,
      faces: img.faces.map((f) => turnFace(f, probe.fromSource, degrees)),
      load: async () => {
        const pixels = await storedPixels(img.path);
        const turned = rotateImage({ ...pixels, channels: 3 }, degrees);
        return encode(turned.image.data, turned.image.width, turned.image.height);
      },
    };
  });
}

function turnFace(f: Face, fromSource: (x: number, y: number) => [number, number], degrees: number): Face {
  return { ...carryBox(f, fromSource), roll: (f.roll ?? 0) + (degrees * Math.PI) / 180 };
}

/**
 * The photos tiled n × n into one photo each (cells as large as the group's largest photo, grey
 * between), so every face is n times smaller relative to the photo: a group photo's faces at the back.
 */
export function mosaicSet(images: readonly DetectionImage[], n: number): DetectionImage[] {
  const groups: DetectionImage[][] = [];
  for (let i = 0; i < images.length; i += n * n) groups.push(images.slice(i, i + n * n));
  return groups.map((group) => {
    const cellW = Math.max(...group.map((g) => g.width));
    const cellH = Math.max(...group.map((g) => g.height));
    const at = (k: number) => ({ left: (k % n) * cellW, top: Math.floor(k / n) * cellH });
    const width = cellW * Math.min(n, group.length);
    const height = cellH * Math.ceil(group.length / n);
    return {
      path: `${group[0]?.path ?? ''} (+${group.length - 1} in a ${n}×${n} mosaic)`,
      width,
      height,
      faces: group.flatMap((g, k) => {
        const { left, top } = at(k);
        return g.faces.map((f) => ({ ...f, x1: f.x1 + left, x2: f.x2 + left, y1: f.y1 + top, y2: f.y2 + top }));
      }),
      load: async () => {
        const tiles = await Promise.all(
          group.map(async (g, k) => {
            const p = await storedPixels(g.path);
            const input = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength);
            return { input, raw: { width: p.width, height: p.height, channels: 3 as const }, ...at(k) };
          }),
        );
        return sharp({ create: { width, height, channels: 3, background: '#808080' } })
          .composite(tiles)
          .jpeg({ quality: 95 })
          .toBuffer();
      },
    };
  });
}
