/** Decoding a library photo again, exactly as the scan did (fine-tuning, the people backfill). */
import path from 'node:path';
import type { DecodeOptions, DecodedImage } from '../engine/image/decode.js';
import { photoKind } from '../engine/image/formats.js';
import { decodePhoto, readPhotoInput } from '../engine/image/photos.js';
import { readMetadata } from './metadata.js';

/**
 * [Note: one decode] A photo decoded exactly as the scanner's worker (main/library/worker.ts) decoded it
 * when it found the faces whose boxes and landmarks the library stores: by kind (HEIC through libheif,
 * camera RAW through its largest embedded preview, oriented by the RAW file's own EXIF), at the
 * library's analysis size. Decoding otherwise would skip HEVC photos or cut faces out of another image
 * (a RAW's TIFF thumbnail) than the one the landmarks were found on.
 */
export async function decodeAsScanned(photo: string, options: Partial<DecodeOptions>): Promise<DecodedImage> {
  const kind = photoKind(photo);
  if (!kind) throw new Error(`${path.extname(photo) || photo} is not a photo kind Facets reads`);
  const input = await readPhotoInput(photo, kind);
  return decodePhoto(input, kind, options, (await readMetadata(input)).orientation);
}
