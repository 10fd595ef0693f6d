/**
 * The benchmark's photos: the demo photos shipped in a dependency (@vladmandic/face-api), the afw-dev
 * and dlib-pascal research photos when ../shared/data is present, and 12 MP JPEGs generated from them
 * into a temporary folder (never committed): a mosaic with ≥ 25 faces and one photo enlarged.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const SHARED_EVAL = path.resolve(ROOT, '../shared/data/eval');

export interface BenchPhoto {
  group: string;
  name: string;
  file: string;
}

function jpegsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function demoPhotos(): string[] {
  const dir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  return jpegsIn(dir);
}

export function afwPhotos(): string[] {
  return jpegsIn(path.join(SHARED_EVAL, 'afw-dev/images'));
}

export function pascalPhotos(): string[] {
  return jpegsIn(path.join(SHARED_EVAL, 'dlib-pascal/images'));
}

/** Evenly spaced picks, for --quick. */
export function spaced<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)] as T);
}

/**
 * A 4000×3000 mosaic (12 MP): `tiles` photos in a grid, each covering its cell. With the 30 afw-dev
 * photos (one or more faces each) it holds at least 30 faces.
 */
export async function mosaic(sources: readonly string[], out: string, columns = 6, rows = 5): Promise<string> {
  const width = 4000;
  const height = 3000;
  const cw = Math.floor(width / columns);
  const ch = Math.floor(height / rows);
  const cells = await Promise.all(
    Array.from({ length: columns * rows }, async (_, i) => ({
      input: await sharp(sources[i % sources.length] as string)
        .rotate()
        .resize(cw, ch, { fit: 'cover' })
        .toBuffer(),
      left: (i % columns) * cw,
      top: Math.floor(i / columns) * ch,
    })),
  );
  await sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(cells)
    .jpeg({ quality: 90 })
    .toFile(out);
  return out;
}

/** One photo enlarged to about 12 MP. */
export async function enlarged(source: string, out: string): Promise<string> {
  const meta = await sharp(source).metadata();
  const k = Math.sqrt(12e6 / ((meta.width ?? 1) * (meta.height ?? 1)));
  await sharp(source)
    .resize(Math.round((meta.width ?? 1) * k), Math.round((meta.height ?? 1) * k), { kernel: 'lanczos3' })
    .jpeg({ quality: 90 })
    .toFile(out);
  return out;
}

/**
 * `count` distinct 1920×1280 JPEGs for the scan throughput run: the sources cycled, each pass a little
 * brighter so that no two files share content (a copy would be recorded, not analysed).
 */
export async function scanSet(sources: readonly string[], dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `scan-${String(i).padStart(4, '0')}.jpg`);
    if (!existsSync(file)) {
      const pass = Math.floor(i / sources.length);
      await sharp(sources[i % sources.length] as string)
        .rotate()
        .resize(1920, 1280, { fit: 'cover' })
        .modulate({ brightness: 1 + 0.01 * pass })
        .jpeg({ quality: 90 })
        .toFile(file);
    }
    files.push(file);
  }
  return files;
}

export async function benchPhotos(tmp: string, quick: boolean): Promise<BenchPhoto[]> {
  const demo = demoPhotos();
  const afw = afwPhotos();
  const pascal = pascalPhotos();
  const photos: BenchPhoto[] = [];
  const add = (group: string, files: readonly string[]) =>
    files.forEach((file) => photos.push({ group, name: path.basename(file), file }));
  add('face-api demo', quick ? spaced(demo, 1) : demo);
  add('afw-dev', spaced(afw, quick ? 2 : 30));
  add('dlib-pascal', quick ? spaced(pascal, 1) : pascal);
  mkdirSync(tmp, { recursive: true });
  const large: string[] = [];
  const many = afw.length > 0 ? afw : demo;
  // --quick keeps one 12 MP photo, the enlarged one: the 52-face mosaic alone would take a minute.
  if (!quick) {
    const mosaicFile = path.join(tmp, 'mosaic-12mp.jpg');
    if (!existsSync(mosaicFile)) await mosaic(many, mosaicFile);
    large.push(mosaicFile);
  }
  if (demo[0]) {
    const file = path.join(tmp, 'enlarged-12mp.jpg');
    if (!existsSync(file)) await enlarged(demo[0], file);
    large.push(file);
  }
  add('12 MP', large);
  return photos;
}
