/**
 * How large a photo file Facets reads. Hashing streams (hash.ts) and JPEG, PNG, WebP, TIFF … decode from
 * the path (libvips reads what it needs), so memory does not follow the file's size; HEIC and RAW
 * decoders need the file in memory, and no real photo comes near this size. Larger files are recorded as
 * unsupported with the reason, without being read at all (a 1.9 GB file named .jpg once took a worker
 * to 2.2 GB).
 */
export const MAX_PHOTO_FILE_BYTES = 512 * 1024 ** 2;

export function tooLargeFile(size: number): string | null {
  if (size <= MAX_PHOTO_FILE_BYTES) return null;
  const mb = (n: number) => `${Math.round(n / 1024 ** 2).toLocaleString('en')} MB`;
  return `too large to analyse: the file is ${mb(size)}, over the ${mb(MAX_PHOTO_FILE_BYTES)} limit (it was not read)`;
}
