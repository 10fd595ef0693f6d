/**
 * Decoding photos for analysis with sharp, in one pass: EXIF orientation applied (everything downstream
 * sees the upright image), colour converted to sRGB once by libvips, shrink-on-load to the analysis size
 * (JPEG decoders skip work at 1/2, 1/4, 1/8 scale), and a pixel cap so a huge image cannot exhaust
 * memory.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { PixelImage } from './resample.js';

export interface DecodeOptions {
  /** Longest side of the analysed image in pixels; larger photos are shrunk, smaller kept (default 1280). */
  maxSide: number;
  /** Decode as greyscale (replicated to 3 channels) — the paper's greyscale variant. */
  greyscale: boolean;
  /** Refuse images with more input pixels than this (default 100 megapixels). */
  maxInputPixels: number;
}

export const DEFAULT_DECODE: DecodeOptions = { maxSide: 1280, greyscale: false, maxInputPixels: 100_000_000 };

export interface DecodedImage extends PixelImage {
  /** Size of the upright photo at full resolution. */
  uprightWidth: number;
  uprightHeight: number;
  /** Size as stored in the file, before EXIF orientation. */
  storedWidth: number;
  storedHeight: number;
  /** EXIF orientation tag, 1–8 (1 = as stored). */
  orientation: number;
  /** Analysed pixels per upright pixel (≤ 1). */
  scale: number;
  format: string;
  /** Set when the file is damaged but could be decoded (the decoder repaired it): why, for the user. */
  damage?: string;
}

export class DecodeError extends Error {
  constructor(
    message: string,
    readonly reason: 'unreadable' | 'too-large' | 'unsupported',
  ) {
    super(message);
  }
}

export async function decodeForAnalysis(
  input: string | Buffer,
  options: Partial<DecodeOptions> = {},
): Promise<DecodedImage> {
  const opts = { ...DEFAULT_DECODE, ...options };
  const meta = await withStableError(input, 'not a readable image', () =>
    sharp(input, { limitInputPixels: false }).metadata(),
  );
  if (!meta.width || !meta.height || !meta.format) throw new DecodeError('image has no dimensions', 'unreadable');
  const pixels = meta.width * meta.height;
  if (pixels > opts.maxInputPixels) {
    throw new DecodeError(
      `${meta.width}×${meta.height} (${(pixels / 1e6).toFixed(0)} MP) exceeds the ${(opts.maxInputPixels / 1e6).toFixed(0)} MP limit`,
      'too-large',
    );
  }
  const orientation = meta.orientation ?? 1;
  const swaps = orientation >= 5 && orientation <= 8;
  const uprightWidth = swaps ? meta.height : meta.width;
  const uprightHeight = swaps ? meta.width : meta.height;
  const scale = Math.min(1, opts.maxSide / Math.max(uprightWidth, uprightHeight));

  // An embedded sRGB profile (most camera and web JPEGs) describes what the pixels already are: libvips
  // would still run them through a colour transform to sRGB, the dearest step of decoding (sample1.jpg:
  // 60–80 ms against 19–25 ms, identical output). Other profiles (Display P3, Adobe RGB) are converted.
  const ignoreIcc = meta.icc !== undefined && isSrgbProfile(meta.icc);
  const decode = (failOn: 'warning' | 'error') => {
    let pipeline = sharp(input, { limitInputPixels: opts.maxInputPixels, failOn, ignoreIcc }).rotate();
    if (scale < 1) {
      pipeline = pipeline.resize({
        width: Math.max(1, Math.round(uprightWidth * scale)),
        height: Math.max(1, Math.round(uprightHeight * scale)),
        fit: 'fill',
        kernel: 'lanczos3',
      });
    }
    pipeline = opts.greyscale ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    return pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  };
  // [Note: damaged JPEGs] libjpeg repairs corrupt entropy data (a cut-short segment, a stray marker) with
  // only a warning, and the photo comes out partly grey or garbled. So JPEGs are decoded strictly
  // first; one that fails only that way is decoded again leniently and flagged with `damage` (the scan
  // records it on the photo and lists it under Problems). Healthy photos are decoded once. The text is
  // ours: libvips' message buffer is shared by every decode in flight (see withStableError).
  let damage: string | undefined;
  const { data, info } = await withStableError(input, 'cannot decode', async () => {
    if (meta.format !== 'jpeg') return decode('error');
    try {
      return await decode('warning');
    } catch {
      const repaired = await decode('error');
      damage =
        'corrupt JPEG data: the decoder repaired it, parts of the photo may be grey or garbled ' +
        '(faces there may be missed)';
      return repaired;
    }
  });
  let pixelsOut: Uint8Array = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (info.channels === 1) pixelsOut = greyToRgb(pixelsOut);
  else if (info.channels !== 3) throw new DecodeError(`unexpected ${info.channels}-channel output`, 'unsupported');
  return {
    data: pixelsOut,
    width: info.width,
    height: info.height,
    channels: 3,
    uprightWidth,
    uprightHeight,
    storedWidth: meta.width,
    storedHeight: meta.height,
    orientation,
    scale: info.width / uprightWidth,
    format: meta.format,
    ...(damage ? { damage } : {}),
  };
}

/**
 * Runs a sharp operation and turns its failure into a `DecodeError` whose text depends on the file
 * alone. libvips keeps its error text in one process-wide buffer, so with decodes in flight on several
 * threads a failure's message arrives repeated, reordered, mixed with another file's, or empty
 * ("Unknown error"). So only what does not come through that buffer is passed on — sharp's own checks
 * ("unsupported image format") — and the rest is named from the file's bytes: a file cut short by an
 * interrupted copy or download, or otherwise corrupt data of its format.
 */
async function withStableError<T>(input: string | Buffer, what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    const message = oneLineError((err as Error).message);
    if (/^Input (buffer|file) (contains unsupported image format|is missing)/i.test(message)) {
      throw new DecodeError(`${what}: ${message}`, 'unreadable');
    }
    const bytes = Buffer.isBuffer(input) ? input : await readFile(input).catch(() => Buffer.alloc(0));
    const format = formatOf(bytes);
    const truncated = format ? isTruncated(bytes, format) : false;
    const reason = truncated
      ? `premature end of ${format} image (the file is truncated)`
      : `corrupt ${format ?? 'image'} data (the decoder could not read it)`;
    throw new DecodeError(`${what}: ${reason}`, 'unreadable');
  }
}

/**
 * A decoder message fit for the user: libvips repeats itself over several lines and prefixes
 * everything with its loader's name ("VipsJpeg: …"); keep the distinct lines, once, on one line.
 */
export function oneLineError(message: string): string {
  const kept: string[] = [];
  for (const line of vipsLines(message)) if (!kept.some((k) => k.includes(line))) kept.push(line);
  const text = kept.slice(0, 3).join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}…` : text;
}

/** The distinct lines of a libvips message, loader prefixes ("VipsJpeg: ") dropped. */
function vipsLines(message: string): string[] {
  return message
    .split('\n')
    .map((raw) => raw.replace(/\bVips\w+:( |$)/g, '').trim())
    .filter(Boolean);
}

/** The format a file's first bytes announce, for the formats whose damage is worth naming. */
function formatOf(data: Buffer): 'JPEG' | 'PNG' | 'WebP' | 'GIF' | 'TIFF' | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'JPEG';
  if (data.subarray(0, 8).equals(PNG_SIGNATURE)) return 'PNG';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') {
    return 'WebP';
  }
  if (data.subarray(0, 4).toString('latin1') === 'GIF8') return 'GIF';
  const tiff = data.subarray(0, 4).toString('hex');
  if (tiff === '49492a00' || tiff === '4d4d002a') return 'TIFF';
  return null;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether a JPEG or PNG lacks the marker every complete file ends with (other formats: unknown, false). */
function isTruncated(data: Buffer, format: string): boolean {
  // Padding after the end marker is common (cameras, some editors), so look at the whole tail.
  const tail = data.subarray(Math.max(0, data.length - 4096));
  if (format === 'JPEG') return !tail.includes(Buffer.from([0xff, 0xd9]));
  if (format === 'PNG') return !tail.includes(Buffer.from('IEND', 'latin1'));
  return false;
}

/**
 * Whether an ICC profile is sRGB, by its description tag ("sRGB IEC61966-2.1", "sRGB built-in", …) —
 * ICC v2 'desc' (ASCII) or v4 'mluc' (UTF-16BE) — for an RGB display profile.
 */
export function isSrgbProfile(icc: Buffer): boolean {
  if (icc.length < 132 || icc.toString('latin1', 16, 20) !== 'RGB ') return false;
  const tags = icc.readUInt32BE(128);
  for (let i = 0; i < tags && 132 + i * 12 + 12 <= icc.length; i++) {
    const entry = 132 + i * 12;
    if (icc.toString('latin1', entry, entry + 4) !== 'desc') continue;
    const at = icc.readUInt32BE(entry + 4);
    const size = icc.readUInt32BE(entry + 8);
    if (at + size > icc.length || size < 12) return false;
    const type = icc.toString('latin1', at, at + 4);
    let text = '';
    if (type === 'desc') {
      const count = icc.readUInt32BE(at + 8);
      text = icc.toString('latin1', at + 12, Math.min(at + 12 + count, at + size));
    } else if (type === 'mluc' && size >= 28) {
      const length = icc.readUInt32BE(at + 20);
      const offset = icc.readUInt32BE(at + 24);
      const bytes = icc.subarray(at + offset, Math.min(at + offset + length, at + size));
      text = Buffer.from(bytes).swap16().toString('utf16le');
    }
    return /^sRGB\b/i.test(text.replace(/\0/g, '').trim());
  }
  return false;
}

function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i] as number;
    rgb[i * 3] = v;
    rgb[i * 3 + 1] = v;
    rgb[i * 3 + 2] = v;
  }
  return rgb;
}

/**
 * Maps a point of the upright image (as analysed, in upright full-resolution pixels) back to the
 * pixel grid stored in the file, for EXIF orientations 1–8.
 */
export function uprightToStored(
  x: number,
  y: number,
  orientation: number,
  storedWidth: number,
  storedHeight: number,
): [number, number] {
  const W = storedWidth;
  const H = storedHeight;
  switch (orientation) {
    case 2: // mirrored horizontally
      return [W - x, y];
    case 3: // rotated 180°
      return [W - x, H - y];
    case 4: // mirrored vertically
      return [x, H - y];
    case 5: // transposed
      return [y, x];
    case 6: // stored rotated 90° counter-clockwise: upright = stored turned 90° clockwise
      return [y, H - x];
    case 7: // transversed
      return [W - y, H - x];
    case 8: // stored rotated 90° clockwise
      return [W - y, x];
    default:
      return [x, y];
  }
}
