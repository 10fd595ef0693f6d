/** What the library keeps from a photo's EXIF: when it was taken, the camera, the orientation. */
import exifr from 'exifr';

export interface PhotoMetadata {
  /** Camera-local 'YYYY-MM-DDTHH:MM:SS' (EXIF carries no time zone in the tags read here). */
  takenAt: string | null;
  camera: string | null;
  orientation: number | null;
}

const EMPTY: PhotoMetadata = { takenAt: null, camera: null, orientation: null };

/** Best effort: a photo without EXIF, or with a damaged block, simply has no metadata. A path is read in chunks. */
export async function readMetadata(file: Buffer | string): Promise<PhotoMetadata> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = (await exifr.parse(file, {
      pick: ['DateTimeOriginal', 'CreateDate', 'Make', 'Model', 'Orientation'],
      reviveValues: false,
      translateValues: false,
      xmp: false,
      icc: false,
      iptc: false,
      jfif: false,
      ihdr: false,
    })) as Record<string, unknown> | undefined;
  } catch {
    return EMPTY;
  }
  if (!tags) return EMPTY;
  const orientation = Number(tags['Orientation']);
  return {
    takenAt: exifDate(tags['DateTimeOriginal']) ?? exifDate(tags['CreateDate']),
    camera: cameraName(tags['Make'], tags['Model']),
    orientation: Number.isInteger(orientation) && orientation >= 1 && orientation <= 8 ? orientation : null,
  };
}

/** "2021:07:04 15:30:12" (EXIF) → "2021-07-04T15:30:12"; null for blanks and impossible dates. */
export function exifDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (y < 1800 || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
}

function cameraName(make: unknown, model: unknown): string | null {
  const mk = typeof make === 'string' ? make.replace(/\0/g, '').trim() : '';
  const md = typeof model === 'string' ? model.replace(/\0/g, '').trim() : '';
  if (!md) return mk || null;
  // Many cameras repeat the make in the model ("Canon" + "Canon EOS 5D").
  const brand = mk.split(/\s+/)[0] ?? '';
  return !mk || md.toLowerCase().startsWith(brand.toLowerCase()) ? md : `${mk} ${md}`;
}
