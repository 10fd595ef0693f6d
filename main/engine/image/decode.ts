/**
 * Decoding photos for analysis with sharp, in one pass: EXIF orientation applied (everything downstream
 * sees the upright image), colour converted to sRGB once by libvips, shrink-on-load to the analysis size
 * (JPEG decoders skip work at 1/2, 1/4, 1/8 scale), and a pixel cap so a huge image cannot exhaust
 * memory.
 */
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
  const meta = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch((err: Error) => {
      throw new DecodeError(`not a readable image: ${err.message}`, 'unreadable');
    });
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

  let pipeline = sharp(input, { limitInputPixels: opts.maxInputPixels, failOn: 'error' }).rotate();
  if (scale < 1) {
    pipeline = pipeline.resize({
      width: Math.max(1, Math.round(uprightWidth * scale)),
      height: Math.max(1, Math.round(uprightHeight * scale)),
      fit: 'fill',
      kernel: 'lanczos3',
    });
  }
  pipeline = opts.greyscale ? pipeline.greyscale() : pipeline.toColourspace('srgb');
  const { data, info } = await pipeline
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((err: Error) => {
      throw new DecodeError(`cannot decode: ${err.message}`, 'unreadable');
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
  };
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
