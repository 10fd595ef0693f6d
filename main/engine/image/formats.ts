/** Which files the library picks up, by extension (case-insensitive), and how each kind is decoded. */
import path from 'node:path';

/** `sharp`: libvips decodes it; `heic`: heic-decode (libheif); `raw`: a camera RAW's embedded JPEG preview. */
export type PhotoKind = 'sharp' | 'heic' | 'raw';

const SHARP = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.tif', '.tiff', '.avif', '.gif'];
const HEIC = ['.heic', '.heif', '.hif'];
const RAW = [
  '.3fr', '.arw', '.cr2', '.cr3', '.crw', '.dcr', '.dng', '.erf', '.iiq', '.k25', '.kdc', '.mef', '.mos', '.mrw',
  '.nef', '.nrw', '.orf', '.pef', '.raf', '.raw', '.rw2', '.rwl', '.sr2', '.srf', '.srw', '.x3f',
]; // prettier-ignore

const KINDS = new Map<string, PhotoKind>([
  ...SHARP.map((e) => [e, 'sharp'] as const),
  ...HEIC.map((e) => [e, 'heic'] as const),
  ...RAW.map((e) => [e, 'raw'] as const),
]);

/** The kind of photo a file is, or null when Facets does not look at it. */
export function photoKind(file: string): PhotoKind | null {
  return KINDS.get(path.extname(file).toLowerCase()) ?? null;
}

export const PHOTO_EXTENSIONS: readonly string[] = [...KINDS.keys()];
