/**
 * Validation of every request at the API boundary. Requests arrive as `unknown` from either transport
 * (Electron IPC, web mode); `validateRequest` returns the typed request or throws `ApiError` 400 with
 * a message naming the offending field. Unknown keys are refused, not ignored, so a typo in the
 * renderer fails loudly. The backend (main/library/backend.ts) answers the validated requests.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES, GENDERS } from '../engine/attributes/labels.js';
import { ApiError } from './backend.js';
import type { Attribute, Channel, FaceEditApi, Filter, Page, PeopleApi, Request, Settings } from './contract.js';

export const MAX_PAGE_SIZE = 500;
/** Faces one correction request may change. */
export const MAX_FACE_IDS = 5000;

type Check<T> = (value: unknown, where: string) => T;

function fail(where: string, message: string): never {
  throw new ApiError(`${where}: ${message}`, 400);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly these keys (optional ones may be absent); anything else is refused. */
function object<T>(fields: { [K in keyof T]-?: { check: Check<T[K]>; optional?: boolean } }): Check<T> {
  return (value, where) => {
    if (!isRecord(value)) fail(where, 'expected an object');
    for (const key of Object.keys(value)) {
      // Own keys only: `__proto__`, `constructor`, `toString` are unknown fields like any other.
      if (!Object.hasOwn(fields, key)) fail(`${where}.${key}`, 'unknown field');
    }
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(fields) as [string, { check: Check<unknown>; optional?: boolean }][]) {
      if (value[key] === undefined) {
        if (!field.optional) fail(`${where}.${key}`, 'required');
        continue;
      }
      out[key] = field.check(value[key], `${where}.${key}`);
    }
    return out as T;
  };
}

const required = <T>(check: Check<T>) => ({ check });
const optional = <T>(check: Check<T>) => ({ check, optional: true });

function integer(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, where) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) fail(where, 'expected an integer');
    if (value < min || value > max) fail(where, `must be between ${min} and ${max}`);
    return value;
  };
}

function number(min: number, max: number): Check<number> {
  return (value, where) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(where, 'expected a number');
    if (value < min || value > max) fail(where, `must be between ${min} and ${max}`);
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, where) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      fail(where, `expected one of ${values.join(', ')}`);
    }
    return value as T;
  };
}

function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') fail(where, 'expected true or false');
  return value;
}

function array<T>(item: Check<T>, maxLength: number, options: { unique?: boolean; min?: number } = {}): Check<T[]> {
  return (value, where) => {
    if (!Array.isArray(value)) fail(where, 'expected an array');
    if (value.length > maxLength) fail(where, `at most ${maxLength} items`);
    if (value.length < (options.min ?? 0)) fail(where, `at least ${options.min} item(s)`);
    const items = value.map((v, i) => item(v, `${where}[${i}]`));
    return options.unique ? [...new Set(items)] : items;
  };
}

export const positiveId: Check<number> = integer(1);

/** An absolute path of an existing directory, normalised (no trailing separator, no `..`). */
export const existingFolder: Check<string> = (value, where) => {
  if (typeof value !== 'string' || value.length === 0) fail(where, 'expected a folder path');
  if (value.length > 4096 || value.includes('\0')) fail(where, 'not a valid path');
  if (!path.isAbsolute(value)) fail(where, `"${value}" is not an absolute path`);
  const folder = path.resolve(value);
  let isDirectory = false;
  try {
    isDirectory = statSync(folder).isDirectory();
  } catch {
    fail(where, `"${folder}" does not exist`);
  }
  if (!isDirectory) fail(where, `"${folder}" is not a folder`);
  return folder;
};

/** An absolute path, normalised; it need not exist (removing a folder that was deleted). */
const absolutePath: Check<string> = (value, where) => {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096 || value.includes('\0')) {
    fail(where, 'expected a path');
  }
  if (!path.isAbsolute(value)) fail(where, `"${value}" is not an absolute path`);
  return path.resolve(value);
};

const isoDate: Check<string> = (value, where) => {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) fail(where, 'expected a date YYYY-MM-DD');
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    fail(where, `${value} is not a calendar date`);
  }
  return value;
};

const LABELS: Record<Attribute, readonly string[]> = {
  ageGroup: AGE_GROUPS,
  gender: GENDERS,
  ethnicity: ETHNICITIES,
  emotion: EMOTIONS,
};
const attribute = oneOf<Attribute>(['ageGroup', 'gender', 'ethnicity', 'emotion']);

const filterShape = object<Filter>({
  ageGroups: optional(array(oneOf(AGE_GROUPS), AGE_GROUPS.length * 2, { unique: true })),
  genders: optional(array(oneOf(GENDERS), GENDERS.length * 2, { unique: true })),
  ethnicities: optional(array(oneOf(ETHNICITIES), ETHNICITIES.length * 2, { unique: true })),
  emotions: optional(array(oneOf(EMOTIONS), EMOTIONS.length * 2, { unique: true })),
  minConfidence: optional(number(0, 1)),
  folder: optional(existingFolder),
  takenFrom: optional(isoDate),
  takenTo: optional(isoDate),
  minFaces: optional(integer(0, 10_000)),
  maxFaces: optional(integer(0, 10_000)),
  corrected: optional(oneOf(['corrected', 'uncorrected'] as const)),
  hideUncertain: optional(array(attribute, 4, { unique: true })),
  people: optional(array(positiveId, 1000, { unique: true })),
});

export const filter: Check<Filter> = (value, where) => {
  const f = filterShape(value, where);
  if (f.takenFrom && f.takenTo && f.takenFrom > f.takenTo) fail(`${where}.takenTo`, 'is before takenFrom');
  if (f.minFaces !== undefined && f.maxFaces !== undefined && f.minFaces > f.maxFaces) {
    fail(`${where}.maxFaces`, 'is below minFaces');
  }
  return f;
};

export const page = object<Page>({ offset: required(integer(0)), limit: required(integer(1, MAX_PAGE_SIZE)) });

const settingsUpdate = object<Partial<Settings>>({
  folders: optional(array(existingFolder, 1000, { unique: true })),
  analysis: optional(
    object<Settings['analysis']>({
      maxSide: required(integer(160, 8192)),
      minFaceSize: required(integer(8, 2000)),
      thresholds: required(((value, where) => {
        const t = array(number(0, 1), 3)(value, where);
        if (t.length !== 3) fail(where, 'expected three thresholds (P-Net, R-Net, O-Net)');
        return t as [number, number, number];
      }) as Check<[number, number, number]>),
      // Absent from clients that predate it: off.
      tiltedFaces: optional(boolean),
    }),
  ),
  provider: optional(oneOf(['auto', 'cuda', 'dml', 'coreml', 'cpu'] as const)),
  theme: optional(oneOf(['system', 'light', 'dark'] as const)),
  hideEthnicity: optional(boolean),
  xmp: optional(
    object<Settings['xmp']>({
      keepUpToDate: required(boolean),
      sidecar: required(oneOf(['jpg.xmp', 'xmp'] as const)),
      keywords: required(array(attribute, 4, { unique: true })),
    }),
  ),
  symlinks: optional(oneOf(['follow', 'inside-folders'] as const)),
});

const nothing: Check<void> = (value, where) => {
  if (value === undefined || value === null || (isRecord(value) && Object.keys(value).length === 0)) return;
  fail(where, 'this request takes no parameters');
};

const faceIds = array(positiveId, MAX_FACE_IDS, { unique: true, min: 1 });

const correction: Check<Request<'faces:correct'>> = (value, where) => {
  const r = object<Request<'faces:correct'>>({
    faceIds: required(faceIds),
    attribute: required(attribute),
    value: required((v, w) => {
      if (typeof v !== 'string') fail(w, 'expected a label');
      return v;
    }),
  })(value, where);
  oneOf(LABELS[r.attribute])(r.value, `${where}.value`);
  return r;
};

// ---- people (main/people/)
function text(maxLength: number): Check<string> {
  return (value, where) => {
    if (typeof value !== 'string' || value.length > maxLength || value.includes('\0')) {
      fail(where, `expected text of at most ${maxLength} characters`);
    }
    return value;
  };
}
const personName: Check<string | null> = (value, where) => (value === null ? null : text(200)(value, where));
const PEOPLE_VALIDATORS: { [C in keyof PeopleApi]: Check<Request<C>> } = {
  'people:list': object({ page: required(page), includeHidden: optional(boolean) }),
  'people:get': object({ id: required(positiveId) }),
  'people:names': object({ prefix: required(text(200)) }),
  'people:counts': object({ filter: required(filter) }),
  'people:suggestions': object({ id: required(positiveId) }),
  'people:name': object({ id: required(positiveId), name: { check: personName } }),
  'people:merge': object({ into: required(positiveId), from: required(positiveId) }),
  'people:hide': object({ id: required(positiveId), hidden: required(boolean) }),
  'people:assign': (value, where) => {
    const r = object<Request<'people:assign'>>({
      faceIds: required(faceIds),
      personId: optional(positiveId),
      name: optional(text(200)),
    })(value, where);
    if ((r.personId === undefined) === (r.name === undefined || r.name.trim() === '')) {
      fail(where, 'name a person: personId or a name (one of them)');
    }
    return r;
  },
  'people:confirm': object({ faceIds: required(faceIds) }),
  'people:remove': object({ faceIds: required(faceIds) }),
  'people:undo': nothing,
  'people:recluster': nothing,
};

// ---- face management (main/faces/)
const faceBox = object<Request<'faces:add'>['box']>({
  x: required(number(-1e6, 1e6)),
  y: required(number(-1e6, 1e6)),
  width: required(number(0, 1e6)),
  height: required(number(0, 1e6)),
});
const FACE_EDIT_VALIDATORS: { [C in keyof FaceEditApi]: Check<Request<C>> } = {
  'faces:reject': object({ faceIds: required(array(positiveId, 1000, { unique: true, min: 1 })) }),
  'faces:restore': object({ ids: required(array(positiveId, 1000, { unique: true, min: 1 })) }),
  'faces:rejected': object({ photoId: required(positiveId) }),
  'faces:add': object({ photoId: required(positiveId), box: required(faceBox), name: optional(text(200)) }),
};

const VALIDATORS: { [C in Channel]: Check<Request<C>> } = {
  ...PEOPLE_VALIDATORS,
  ...FACE_EDIT_VALIDATORS,
  'app:info': nothing,
  'settings:get': nothing,
  'settings:update': settingsUpdate,
  'folders:add': object({ path: required(existingFolder) }),
  'folders:remove': object({ path: required(absolutePath) }),
  'scan:start': (value, where) =>
    value === undefined || value === null
      ? {}
      : object<Request<'scan:start'>>({ folders: optional(array(existingFolder, 1000, { unique: true })) })(
          value,
          where,
        ),
  'scan:pause': nothing,
  'scan:resume': nothing,
  'scan:cancel': nothing,
  'scan:status': nothing,
  'photos:query': object({
    filter: required(filter),
    page: required(page),
    sort: optional(oneOf(['taken', 'name', 'faces'] as const)),
  }),
  'faces:query': object({ filter: required(filter), page: required(page) }),
  'facets:get': object({ filter: required(filter), target: required(oneOf(['photos', 'faces'] as const)) }),
  'photo:get': object({ id: required(positiveId) }),
  'face:get': object({ id: required(positiveId) }),
  'faces:correct': correction,
  'faces:uncorrect': object({ faceIds: required(faceIds), attribute: required(attribute) }),
  'errors:list': object({ page: required(page) }),
  'errors:ignore': object({
    photoIds: required(array(positiveId, 1000, { unique: true, min: 1 })),
    ignored: required(boolean),
  }),
  'learning:status': nothing,
  'learning:start': nothing,
  'learning:revert': nothing,
  'errors:retry': (value, where) =>
    value === undefined || value === null
      ? {}
      : object<Request<'errors:retry'>>({ photoIds: optional(array(positiveId, MAX_FACE_IDS, { unique: true })) })(
          value,
          where,
        ),
};

/** The request, checked and normalised for `channel`; throws ApiError 400 when it is not valid. */
export function validateRequest<C extends Channel>(channel: C, request: unknown): Request<C> {
  const validator = (VALIDATORS as Record<string, Check<unknown> | undefined>)[channel];
  if (!validator) throw new ApiError(`unknown channel ${String(channel)}`, 404);
  return validator(request, 'request') as Request<C>;
}
