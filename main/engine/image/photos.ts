/**
 * Decoding every photo kind the library accepts into the engine's `DecodedImage`, so analysis and
 * thumbnails share one decode: libvips formats through the engine's `decodeForAnalysis`, HEIC/HEIF
 * through heic-decode (sharp's prebuilt libvips has no HEVC decoder), camera RAW through its largest
 * embedded JPEG preview.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import {
  DEFAULT_DECODE,
  DecodeError,
  type DecodeOptions,
  type DecodedImage,
  decodeForAnalysis,
  oneLineError,
} from './decode.js';
import type { PhotoKind } from './formats.js';

/**
 * What the decoders read of a photo file: for formats libvips reads, its path (libvips reads what it
 * needs; no file is held whole in memory); HEIC and RAW decoders need the bytes. The scanner's workers
 * and the fine-tune's re-embedding both read photos through this and `decodePhoto` ([Note: one decode]).
 */
export async function readPhotoInput(file: string, kind: PhotoKind): Promise<Buffer | string> {
  return kind === 'sharp' ? file : readFile(file);
}

export async function decodePhoto(
  /** The file's bytes, or (formats libvips reads, kind 'sharp') its path. */
  file: Buffer | string,
  kind: PhotoKind,
  options: Partial<DecodeOptions> = {},
  /** EXIF orientation of the file itself (a RAW's preview often carries none of its own). */
  fileOrientation: number | null = null,
): Promise<DecodedImage> {
  if (typeof file !== 'string' && file.length === 0) throw new DecodeError('empty file (0 bytes)', 'unreadable');
  if (kind === 'sharp') return decodeForAnalysis(file, options);
  const bytes = typeof file === 'string' ? await readFile(file) : file;
  if (bytes.length === 0) throw new DecodeError('empty file (0 bytes)', 'unreadable');
  return kind === 'heic' ? decodeHeic(bytes, options) : decodeRawPreview(bytes, options, fileOrientation);
}

export async function decodeHeic(file: Buffer, options: Partial<DecodeOptions> = {}): Promise<DecodedImage> {
  const opts = { ...DEFAULT_DECODE, ...options };
  const { default: heicDecode } = await import('heic-decode');
  let heicError: Error;
  try {
    const images = await heicDecode.all({ buffer: file });
    try {
      const primary = images[0];
      if (!primary) throw new Error('no image inside');
      refuseTooLarge(primary.width, primary.height, opts.maxInputPixels);
      const { width, height, data } = await primary.decode();
      return await decodedFromRgba(data, width, height, opts, 'heif');
    } finally {
      images.dispose();
    }
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    heicError = err as Error;
  }
  // HEIF files coded with AV1 rather than HEVC (and AVIFs named .heic) are libvips' business.
  try {
    return await decodeForAnalysis(file, opts);
  } catch {
    throw new DecodeError(`HEIC/HEIF image could not be decoded: ${heicError.message}`, 'unreadable');
  }
}

/** An RGBA buffer (libheif's output) as the engine's analysis image: alpha dropped, shrunk to maxSide. */
export async function decodedFromRgba(
  rgba: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  options: Partial<DecodeOptions> = {},
  format = 'raw',
): Promise<DecodedImage> {
  const opts = { ...DEFAULT_DECODE, ...options };
  const scale = Math.min(1, opts.maxSide / Math.max(width, height));
  let pipeline = sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
    raw: { width, height, channels: 4 },
    limitInputPixels: false,
  });
  if (scale < 1) {
    pipeline = pipeline.resize({
      width: Math.max(1, Math.round(width * scale)),
      height: Math.max(1, Math.round(height * scale)),
      fit: 'fill',
      kernel: 'lanczos3',
    });
  }
  if (opts.greyscale) pipeline = pipeline.greyscale().toColourspace('srgb');
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new DecodeError(`unexpected ${info.channels}-channel output`, 'unsupported');
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: 3,
    uprightWidth: width,
    uprightHeight: height,
    storedWidth: width,
    storedHeight: height,
    orientation: 1, // libheif applies the HEIF rotation/mirror properties while decoding
    scale: info.width / width,
    format,
  };
}

async function decodeRawPreview(
  file: Buffer,
  options: Partial<DecodeOptions>,
  fileOrientation: number | null,
): Promise<DecodedImage> {
  const preview = largestEmbeddedJpeg(file);
  if (!preview) {
    throw new DecodeError(
      'unsupported camera RAW: it holds no JPEG preview, and Facets reads RAW files only through their preview',
      'unsupported',
    );
  }
  const oriented =
    fileOrientation && fileOrientation > 1 && !hasExif(preview) ? withOrientation(preview, fileOrientation) : preview;
  try {
    return await decodeForAnalysis(oriented, options);
  } catch (err) {
    if (err instanceof DecodeError && err.reason === 'too-large') throw err;
    throw new DecodeError(`camera RAW preview could not be decoded: ${(err as Error).message}`, 'unreadable');
  }
}

function refuseTooLarge(width: number, height: number, maxInputPixels: number): void {
  const pixels = width * height;
  if (pixels > maxInputPixels) {
    throw new DecodeError(
      `${width}×${height} (${(pixels / 1e6).toFixed(0)} MP) exceeds the ${(maxInputPixels / 1e6).toFixed(0)} MP limit`,
      'too-large',
    );
  }
}

/**
 * The largest baseline or progressive JPEG embedded in a file (a camera RAW's full-size preview),
 * found by walking JPEG marker segments from every SOI. Lossless JPEGs (SOF3: the RAW sensor data in
 * CR2/DNG) are skipped: libvips cannot decode them, and they are not pictures.
 */
export function largestEmbeddedJpeg(data: Buffer): Buffer | null {
  const soi = Buffer.from([0xff, 0xd8, 0xff]);
  let best: { start: number; end: number } | null = null;
  let at = data.indexOf(soi);
  while (at >= 0) {
    const end = jpegEnd(data, at);
    if (end > 0 && (!best || end - at > best.end - best.start)) best = { start: at, end };
    at = data.indexOf(soi, end > 0 ? end : at + 2);
  }
  return best ? data.subarray(best.start, best.end) : null;
}

/** End offset (exclusive) of a decodable JPEG starting at `start`, or -1. */
function jpegEnd(data: Buffer, start: number): number {
  let pos = start + 2;
  let frame = -1;
  while (pos + 2 <= data.length) {
    if (data[pos] !== 0xff) return -1;
    const marker = data[pos + 1] as number;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd9) return frame >= 0 ? pos + 2 : -1;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    }
    if (pos + 4 > data.length) return -1;
    const length = data.readUInt16BE(pos + 2);
    if (length < 2) return -1;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) frame = marker;
    pos += 2 + length;
    if (marker !== 0xda) continue;
    if (frame !== 0xc0 && frame !== 0xc1 && frame !== 0xc2) return -1;
    // Entropy-coded data runs to the next marker: 0xFF followed by neither 0x00 (stuffing) nor RSTn.
    for (;;) {
      pos = data.indexOf(0xff, pos);
      if (pos < 0 || pos + 1 >= data.length) return -1;
      const next = data[pos + 1] as number;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) pos += next === 0xff ? 1 : 2;
      else break;
    }
  }
  return -1;
}

function hasExif(jpeg: Buffer): boolean {
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1] as number;
    if (marker === 0xda) return false;
    if (marker === 0xe1 && jpeg.toString('latin1', pos + 4, pos + 8) === 'Exif') return true;
    pos += 2 + jpeg.readUInt16BE(pos + 2);
  }
  return false;
}

/** The JPEG with a minimal EXIF block (one tag: Orientation) inserted after its SOI marker. */
export function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  const app1 = Buffer.alloc(36);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(34, 2); // segment length, counting itself
  app1.write('Exif\0\0', 4, 'latin1');
  app1.write('MM', 10, 'latin1'); // big-endian TIFF header
  app1.writeUInt16BE(42, 12);
  app1.writeUInt32BE(8, 14); // IFD0 right after the header
  app1.writeUInt16BE(1, 18); // one entry
  app1.writeUInt16BE(0x0112, 20); // Orientation
  app1.writeUInt16BE(3, 22); // SHORT
  app1.writeUInt32BE(1, 24);
  app1.writeUInt16BE(orientation, 28);
  app1.writeUInt32BE(0, 32); // no next IFD
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

/** A decoder message fit for the user, on one line (see `oneLineError`). */
export const readableError = oneLineError;
