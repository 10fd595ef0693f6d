/**
 * Photo folders built on the fly for the library tests: real face photos (the face-api demo samples
 * shipped in node_modules), every format the scanner reads, and a messy assortment of broken files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ROOT, SHARED_DATA } from './cli.js';

export const SAMPLES = path.join(ROOT, 'node_modules/@vladmandic/face-api/demo');
export const AFW_IMAGES = path.join(SHARED_DATA, 'eval/afw-dev/images');
export const afwMissing = existsSync(AFW_IMAGES) ? false : `${AFW_IMAGES} absent (../shared/data not mounted)`;

export function sample(n: number): string {
  return path.join(SAMPLES, `sample${n}.jpg`);
}

/** Root ignores file permissions, so a chmod-000 file is readable to it. */
export const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export interface MessyLibrary {
  root: string;
  /** Relative paths expected to be analysed (status ok), including duplicates. */
  ok: string[];
  /** Relative path → pattern of the recorded error. */
  errors: Record<string, RegExp>;
  /** Relative path → pattern of the recorded reason for files Facets cannot analyse. */
  unsupported: Record<string, RegExp>;
  /** Relative paths of the duplicate copies (content already elsewhere in the library). */
  duplicates: string[];
  /** Relative paths that must never be picked up (hidden and system folders, symlink loops). */
  skipped: string[];
  /** Deleted by the test while the scan runs. */
  vanishing: string;
  /** The EXIF-rotated copy of sample3 and sample3's upright size. */
  rotated: { file: string; width: number; height: number };
}

function put(root: string, relative: string, data: Buffer | string): string {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return file;
}

/** A fake camera RAW: a TIFF-like header, a small and a large embedded JPEG, sensor-ish junk. */
async function fakeRaw(jpeg: Buffer): Promise<Buffer> {
  const thumb = await sharp(jpeg).resize(160).jpeg().toBuffer();
  const junk = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 17) % 256));
  return Buffer.concat([
    Buffer.from('II*\0\x08\0\0\0', 'latin1'),
    junk(4096, 31),
    thumb,
    junk(8192, 97),
    jpeg,
    junk(2048, 13),
  ]);
}

export async function buildMessyLibrary(root: string, options: { tinyImages?: number } = {}): Promise<MessyLibrary> {
  const ok: string[] = [];
  const errors: Record<string, RegExp> = {};
  const unsupported: Record<string, RegExp> = {};
  const duplicates: string[] = [];
  const add = (relative: string, data: Buffer | string) => put(root, relative, data);

  for (let i = 1; i <= 6; i++) {
    add(`people/sample${i}.jpg`, readFileSync(sample(i)));
    ok.push(`people/sample${i}.jpg`);
  }
  add('Ünïcødé & spaces/фото с пробелом 2.jpg', readFileSync(sample(2)));
  duplicates.push('Ünïcødé & spaces/фото с пробелом 2.jpg');
  add('copies/sample1 (copy).jpg', readFileSync(sample(1)));
  duplicates.push('copies/sample1 (copy).jpg');
  ok.push(...duplicates);

  // Stored rotated a quarter turn counter-clockwise, EXIF orientation 6 turns it back upright.
  const upright = await sharp(sample(3)).metadata();
  add(
    'rotated/sample3 orientation 6.jpg',
    await sharp(sample(3)).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
  );
  ok.push('rotated/sample3 orientation 6.jpg');

  const s4 = readFileSync(sample(4));
  add('formats/sample4.png', await sharp(s4).png().toBuffer());
  add('formats/sample4.webp', await sharp(s4).webp().toBuffer());
  add('formats/sample4.tiff', await sharp(s4).tiff().toBuffer());
  add('formats/sample4.avif', await sharp(s4).resize(640).avif({ effort: 0 }).toBuffer());
  add('formats/sample4.gif', await sharp(s4).resize(640).gif().toBuffer());
  add('formats/sample5.NEF', await fakeRaw(readFileSync(sample(5))));
  // HEIF coded with AV1 (what sharp can write): libheif's wasm build has no AV1 decoder, libvips does.
  add('formats/sample6.heic', await sharp(sample(6)).resize(640).heif({ compression: 'av1', effort: 0 }).toBuffer());
  ok.push(
    'formats/sample4.png',
    'formats/sample4.webp',
    'formats/sample4.tiff',
    'formats/sample4.avif',
    'formats/sample4.gif',
    'formats/sample5.NEF',
    'formats/sample6.heic',
  );

  const s5 = readFileSync(sample(5));
  add('broken/zero bytes.jpg', Buffer.alloc(0));
  errors['broken/zero bytes.jpg'] = /empty file/;
  add('broken/truncated.jpg', s5.subarray(0, Math.floor(s5.length / 2)));
  errors['broken/truncated.jpg'] = /premature end/;
  add('broken/corrupt.jpg', Buffer.concat([s5.subarray(0, 2000), Buffer.alloc(20_000), s5.subarray(22_000)]));
  errors['broken/corrupt.jpg'] = /corrupt|not a readable image/i;
  add('broken/actually text.jpg', 'This is a shopping list, not a photo.\n');
  errors['broken/actually text.jpg'] = /not a readable image|unsupported image format/;
  add('broken/not really.heic', 'ftypheic but nothing else');
  errors['broken/not really.heic'] = /HEIC\/HEIF image could not be decoded/;
  symlinkSync(path.join(root, 'nowhere', 'gone.jpg'), path.join(root, 'broken', 'dangling link.jpg'));
  errors['broken/dangling link.jpg'] = /broken symbolic link/;
  if (!runningAsRoot) {
    const locked = add('broken/no permission.jpg', readFileSync(sample(1)).subarray(0, 5000));
    chmodSync(locked, 0o000);
    errors['broken/no permission.jpg'] = /permission denied/;
  }
  add('broken/sensor data only.cr2', Buffer.concat([Buffer.from('II*\0CR'), Buffer.alloc(50_000, 7)]));
  unsupported['broken/sensor data only.cr2'] = /no JPEG preview/;
  // 120 megapixels of flat grey: a 0.4 MB PNG that would take 360 MB to decode.
  add(
    'huge/120 megapixels.png',
    await sharp({ create: { width: 12_000, height: 10_000, channels: 3, background: '#808080' } })
      .png({ compressionLevel: 9 })
      .toBuffer(),
  );
  unsupported['huge/120 megapixels.png'] = /120 MP\) exceeds the 100 MP limit/;

  // Never picked up: hidden and system folders, non-photo files, and links that loop.
  add('.hidden/sample1.jpg', readFileSync(sample(1)));
  add('people/@eaDir/sample1.jpg', readFileSync(sample(1)));
  add('node_modules/pkg/sample1.jpg', readFileSync(sample(1)));
  add('people/notes.txt', 'not a photo');
  add('people/._sample1.jpg', 'AppleDouble resource fork');
  symlinkSync(root, path.join(root, 'people', 'loop to the root'));
  symlinkSync('.', path.join(root, 'people', 'loop to itself'));
  const skipped = [
    '.hidden/sample1.jpg',
    'people/@eaDir/sample1.jpg',
    'node_modules/pkg/sample1.jpg',
    'people/._sample1.jpg',
  ];

  const tiny = options.tinyImages ?? 0;
  for (let i = 0; i < tiny; i++) {
    const name = `tiny/${String(i).padStart(5, '0')}.png`;
    add(name, await tinyPng(i));
    ok.push(name);
  }

  add('zzz last/vanishes.jpg', readFileSync(sample(3)).subarray(0, 40_000));

  return {
    root,
    ok,
    errors,
    unsupported,
    duplicates,
    skipped,
    vanishing: 'zzz last/vanishes.jpg',
    rotated: {
      file: 'rotated/sample3 orientation 6.jpg',
      width: upright.width as number,
      height: upright.height as number,
    },
  };
}

/** A distinct 24×24 PNG per index (distinct content: no two are duplicates). */
export function tinyPng(i: number): Promise<Buffer> {
  const pixels = Buffer.alloc(24 * 24 * 3);
  for (let p = 0; p < pixels.length; p++) pixels[p] = (p * 31 + i * 7) % 256;
  pixels.writeUInt32BE(i, 0);
  return sharp(pixels, { raw: { width: 24, height: 24, channels: 3 } })
    .png()
    .toBuffer();
}

export async function writeTinyImages(folder: string, count: number): Promise<void> {
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++)
    writeFileSync(path.join(folder, `${String(i).padStart(5, '0')}.png`), await tinyPng(i));
}

export function copyInto(folder: string, files: readonly string[]): void {
  mkdirSync(folder, { recursive: true });
  for (const f of files) copyFileSync(f, path.join(folder, path.basename(f)));
}

/** The real CLI from the TypeScript sources (no build needed), as a child process. */
export function spawnFacets(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const entry = path.join(ROOT, 'main/cli/main.ts');
  const script = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Runs the CLI from sources to completion. */
export function facetsFromSources(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return finished(spawnFacets(args, env));
}
