/**
 * The two evaluation-set formats (see ../shared/README.md): attribute sets (a folder with labels.csv)
 * and detection sets (a folder with images/ and annotations.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Rect } from '../../main/learning/metrics.js';

export interface AttributeSample {
  path: string;
  age?: number;
  ageGroup?: string;
  gender?: string;
  ethnicity?: string;
  /** FairFace's seven classes (ETHNICITIES7), where the set has them. */
  ethnicity7?: string;
  emotion?: string;
  /** Identity of the photo's centre face (people sets). */
  person?: string;
}

export interface DetectionImage {
  path: string;
  /** The photo's bytes when it is made for the evaluation (turned, tiled) rather than read from `path`. */
  load?: () => Promise<Buffer>;
  width: number;
  height: number;
  faces: (Rect & { yaw?: number; roll?: number; pitch?: number })[];
}

export type EvalSet =
  | { kind: 'attributes'; root: string; samples: AttributeSample[] }
  | { kind: 'detection'; root: string; images: DetectionImage[] };

/** Minimal RFC 4180 CSV parsing (quoted fields, doubled quotes, CRLF). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows.filter((r) => r.length > 1 || r[0] !== '');
  if (!header) return [];
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

export function loadEvalSet(folder: string): EvalSet {
  const root = path.resolve(folder);
  if (existsSync(path.join(root, 'labels.csv'))) {
    const samples = parseCsv(readFileSync(path.join(root, 'labels.csv'), 'utf8')).map((r): AttributeSample => {
      const s: AttributeSample = { path: path.join(root, r['path'] ?? '') };
      if (r['age']) s.age = Number(r['age']);
      if (r['age_group']) s.ageGroup = r['age_group'];
      if (r['gender']) s.gender = r['gender'];
      if (r['ethnicity']) s.ethnicity = r['ethnicity'];
      if (r['ethnicity7']) s.ethnicity7 = r['ethnicity7'];
      if (r['emotion']) s.emotion = r['emotion'];
      if (r['person']) s.person = r['person'];
      return s;
    });
    return { kind: 'attributes', root, samples };
  }
  if (existsSync(path.join(root, 'annotations.json'))) {
    const raw = JSON.parse(readFileSync(path.join(root, 'annotations.json'), 'utf8')) as {
      filename: string;
      width: number;
      height: number;
      faces: (Rect & { yaw?: number; roll?: number; pitch?: number })[];
    }[];
    return {
      kind: 'detection',
      root,
      images: raw.map((r) => ({
        path: path.join(root, 'images', r.filename),
        width: r.width,
        height: r.height,
        faces: r.faces,
      })),
    };
  }
  throw new Error(`${folder} is neither an attribute set (labels.csv) nor a detection set (annotations.json)`);
}

/** Up to `limit` items evenly spaced through the list (deterministic subsampling, as `facets eval --limit`). */
export function evenlySpaced<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)] as T);
}
