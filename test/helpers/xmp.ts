/** XMP test helpers: Debian's exiftool as the third-party reader, and photos stored in every EXIF orientation. */
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';

export interface ExifRegion {
  Type?: string;
  Name?: string;
  Area: { X: number; Y: number; W: number; H: number; Unit: string };
}

export interface ExifXmp {
  SourceFile: string;
  RegionInfo?: { AppliedToDimensions?: { W: number; H: number; Unit: string }; RegionList?: ExifRegion[] };
  HierarchicalSubject?: string[] | string;
  Subject?: string[] | string;
  TagsList?: string[] | string;
  [tag: string]: unknown;
}

/** exiftool's reading of files (struct mode, JSON), one object per file. */
export function exiftool(files: string[], tags: string[]): ExifXmp[] {
  const out = execFileSync('exiftool', ['-struct', '-j', ...tags, ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as ExifXmp[];
}

/** A tag exiftool gives as a string for one value and an array for several, always as an array. */
export function list(value: string[] | string | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const TURNS = [0, 90, 180, 270].flatMap((angle) => [false, true].map((flop) => ({ angle, flop })));

async function rawOf(image: Buffer, orient: boolean): Promise<{ data: Buffer; width: number; height: number }> {
  const pipeline = orient ? sharp(image).rotate() : sharp(image);
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function meanDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

/**
 * The upright JPEG stored as EXIF orientation `orientation` shows: pixels turned/mirrored so that a
 * viewer applying the tag (libvips' auto-orientation here, the oracle) shows `upright` again.
 */
export async function storedAs(upright: Buffer, orientation: number): Promise<Buffer> {
  const target = await rawOf(upright, false);
  let best: { jpeg: Buffer; difference: number } | null = null;
  for (const turn of TURNS) {
    let pipeline = sharp(upright).rotate(turn.angle);
    if (turn.flop) pipeline = pipeline.flop();
    const turned = await pipeline.jpeg({ quality: 95 }).toBuffer();
    const jpeg = await sharp(turned).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
    const shown = await rawOf(jpeg, true);
    if (shown.width !== target.width || shown.height !== target.height) continue;
    const difference = meanDifference(shown.data, target.data);
    if (!best || difference < best.difference) best = { jpeg, difference };
  }
  if (!best || best.difference > 4)
    throw new Error(`no turn of the photo shows upright under orientation ${orientation}`);
  return best.jpeg;
}

export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A crop as a small grey thumbnail, for comparing image content. */
async function patch(image: Buffer, box: PixelBox, orientation: number | null): Promise<Buffer> {
  let crop = await sharp(image).extract(box).png().toBuffer();
  // The crop of a stored image, shown upright as the tag says (libvips does the turning).
  if (orientation !== null) {
    const tagged = await sharp(crop).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
    crop = await sharp(tagged).rotate().png().toBuffer();
  }
  return sharp(crop).resize(24, 24, { fit: 'fill' }).greyscale().raw().toBuffer();
}

/** Mean grey difference (0..255) between a crop of the stored image (turned upright) and one of the upright image. */
export async function patchDifference(
  stored: Buffer,
  storedBox: PixelBox,
  orientation: number,
  upright: Buffer,
  uprightBox: PixelBox,
): Promise<number> {
  return meanDifference(await patch(stored, storedBox, orientation), await patch(upright, uprightBox, null));
}
