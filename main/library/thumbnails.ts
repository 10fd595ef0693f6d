/**
 * The on-disk thumbnail cache (WebP): one per photo content and one per face, named by content hash
 * so moved and duplicate files share them. Thumbnails are cut from the pixels decoded for analysis,
 * never from a second decode of the file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { FaceBox } from '../engine/analyzer.js';
import type { DecodedImage } from '../engine/image/decode.js';

export const PHOTO_THUMB_SIDE = 384;
export const FACE_THUMB_SIDE = 160;
/** Face thumbnails show the face box enlarged by this factor (hair, chin, a bit of context). */
const FACE_CONTEXT = 1.6;
const WEBP = { quality: 78, effort: 2 } as const;

export class ThumbnailCache {
  constructor(readonly dir: string) {}

  photoFile(hash: string): string {
    return path.join(this.dir, 'photos', hash.slice(0, 2), `${hash}.webp`);
  }

  faceFile(hash: string, index: number): string {
    return path.join(this.dir, 'faces', hash.slice(0, 2), `${hash}-${index}.webp`);
  }

  read(file: string): Promise<Buffer> {
    return readFile(file);
  }

  /** Writes the photo's and its faces' thumbnails (skipping those already cached). */
  async writeAll(hash: string, image: DecodedImage, faces: readonly FaceBox[]): Promise<void> {
    const photoFile = this.photoFile(hash);
    if (!existsSync(photoFile)) await writeAtomically(photoFile, await photoThumbnail(image));
    for (const [i, box] of faces.entries()) {
      const file = this.faceFile(hash, i);
      if (!existsSync(file)) await writeAtomically(file, await faceThumbnail(image, box));
    }
  }
}

/**
 * Face thumbnails by their face's idx (faces added or put back by the user have idx that are not their
 * position: [Note: face edits]); `replace` writes over one already there.
 */
export async function writeFaceThumbnails(
  cache: ThumbnailCache,
  hash: string,
  image: DecodedImage,
  faces: readonly { idx: number; box: FaceBox }[],
  replace = false,
): Promise<void> {
  for (const { idx, box } of faces) {
    const file = cache.faceFile(hash, idx);
    if (replace || !existsSync(file)) await writeAtomically(file, await faceThumbnail(image, box));
  }
}

function pixels(image: DecodedImage): Sharp {
  const { data } = image;
  return sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
}

export function photoThumbnail(image: DecodedImage): Promise<Buffer> {
  return pixels(image)
    .resize({ width: PHOTO_THUMB_SIDE, height: PHOTO_THUMB_SIDE, fit: 'inside', withoutEnlargement: true })
    .webp(WEBP)
    .toBuffer();
}

/** A square crop around the face (box in upright full-resolution pixels), kept inside the image. */
export function faceThumbnail(image: DecodedImage, box: FaceBox): Promise<Buffer> {
  const k = image.scale;
  const side = Math.max(
    1,
    Math.min(Math.round(Math.max(box.width, box.height) * FACE_CONTEXT * k), image.width, image.height),
  );
  const cx = (box.x + box.width / 2) * k;
  const cy = (box.y + box.height / 2) * k;
  const left = clamp(Math.round(cx - side / 2), 0, image.width - side);
  const top = clamp(Math.round(cy - side / 2), 0, image.height - side);
  return pixels(image)
    .extract({ left, top, width: side, height: side })
    .resize({ width: FACE_THUMB_SIDE, height: FACE_THUMB_SIDE, fit: 'fill' })
    .webp(WEBP)
    .toBuffer();
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** Write-then-rename, so a killed scan never leaves a half-written thumbnail behind. */
async function writeAtomically(file: string, data: Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (err) {
    // A full disk leaves a partial temp file: remove it (what a crash leaves, the next scan removes).
    await rm(temp, { force: true });
    throw err;
  }
}
