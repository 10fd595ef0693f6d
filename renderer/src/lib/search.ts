/**
 * The search box's language: free words mapped to a `Filter`, and back. Pure functions, shared by the
 * renderer and the unit tests (test/unit/search.test.ts).
 *
 * Words of one kind combine with OR ("happy sad" = happy or sad), different kinds with AND ("happy
 * 20-29 asian"). A leading "-" excludes ("-happy" = any emotion but happy, "-corrected" = not
 * corrected). Every kind also has an explicit `key:value` form (`emotion:happy`, `age:20-29`,
 * `faces:2+`, `conf:80%`, `in:"/photos/2020"`, `from:2020-05`, `before:2021`, `is:corrected`, `sure:gender` to hide faces whose gender estimate is uncertain).
 */
import {
  AGE_GROUPS,
  type AgeGroup,
  type Attribute,
  EMOTIONS,
  ETHNICITIES,
  type Emotion,
  type Ethnicity,
  type Filter,
  GENDERS,
  type Gender,
} from './api/index.js';

export interface SearchOptions {
  /** Ethnicity words are not understood (and not written) when the user has hidden ethnicity. */
  hideEthnicity?: boolean;
  /** Named people: their names are search words (`Anna`, `"Anna Berg"`, `person:Anna`). */
  people?: readonly { id: number; name: string | null }[];
}

/** Ids of the people with this name (case-insensitive). */
function peopleNamed(name: string, options: SearchOptions): number[] {
  const lower = name.toLowerCase();
  return (options.people ?? []).filter((p) => p.name?.toLowerCase() === lower).map((p) => p.id);
}

function addPeople(b: Builder, ids: readonly number[]): boolean {
  if (ids.length === 0) return false;
  b.rest.people = [...new Set([...(b.rest.people ?? []), ...ids])];
  return true;
}

export interface ParsedSearch {
  filter: Filter;
  /** Words the parser did not understand, as typed. */
  unknown: string[];
}

const EMOTION_WORDS: Record<string, Emotion> = {
  happy: 'happy',
  happiness: 'happy',
  smile: 'happy',
  smiles: 'happy',
  smiling: 'happy',
  joy: 'happy',
  joyful: 'happy',
  sad: 'sad',
  sadness: 'sad',
  unhappy: 'sad',
  angry: 'angry',
  anger: 'angry',
  mad: 'angry',
  disgust: 'disgust',
  disgusted: 'disgust',
  fear: 'fear',
  fearful: 'fear',
  afraid: 'fear',
  scared: 'fear',
  surprise: 'surprise',
  surprised: 'surprise',
  shocked: 'surprise',
  neutral: 'neutral',
  calm: 'neutral',
};

const GENDER_WORDS: Record<string, Gender> = {
  male: 'male',
  males: 'male',
  man: 'male',
  men: 'male',
  female: 'female',
  females: 'female',
  woman: 'female',
  women: 'female',
};

const ETHNICITY_WORDS: Record<string, Ethnicity> = {
  white: 'white',
  caucasian: 'white',
  black: 'black',
  asian: 'asian',
  indian: 'indian',
};

const CHILD_GROUPS: AgeGroup[] = ['0-2', '3-9', '10-19'];
const AGE_WORDS: Record<string, AgeGroup[]> = {
  baby: ['0-2'],
  babies: ['0-2'],
  infant: ['0-2'],
  infants: ['0-2'],
  toddler: ['0-2'],
  toddlers: ['0-2'],
  child: ['3-9'],
  children: ['3-9'],
  kid: ['3-9'],
  kids: ['3-9'],
  teen: ['10-19'],
  teens: ['10-19'],
  teenager: ['10-19'],
  teenagers: ['10-19'],
  senior: ['60-69', '70+'],
  seniors: ['60-69', '70+'],
  elderly: ['60-69', '70+'],
};

/** Words that set a gender and an age range at once. */
const GENDER_AGE_WORDS: Record<string, [Gender, AgeGroup[]]> = {
  boy: ['male', CHILD_GROUPS],
  boys: ['male', CHILD_GROUPS],
  girl: ['female', CHILD_GROUPS],
  girls: ['female', CHILD_GROUPS],
};

const FACE_COUNT_WORDS: Record<string, [number, number | undefined]> = {
  nobody: [0, 0],
  solo: [1, 1],
  alone: [1, 1],
  single: [1, 1],
  portrait: [1, 1],
  couple: [2, 2],
  pair: [2, 2],
  group: [3, undefined],
  groups: [3, undefined],
  crowd: [6, undefined],
};

const FACE_NOUNS = new Set(['face', 'faces', 'person', 'people']);

/** Lower bound (years) of each age group, in AGE_GROUPS order; the last group is open-ended. */
const GROUP_STARTS = AGE_GROUPS.map((g) => Number.parseInt(g, 10));
const MAX_AGE = 130;

function groupsOverlapping(from: number, to: number): AgeGroup[] {
  return AGE_GROUPS.filter((_, i) => {
    const start = GROUP_STARTS[i] as number;
    const end = i + 1 < GROUP_STARTS.length ? (GROUP_STARTS[i + 1] as number) - 1 : MAX_AGE;
    return start <= to && end >= from;
  });
}

/** Splits on white space; double quotes group words ("in:"My Photos"" or "in:\"My Photos\""). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) tokens.push(current);
  return tokens;
}

type SetKey = 'ageGroups' | 'genders' | 'ethnicities' | 'emotions';

class Builder {
  readonly include: Record<SetKey, Set<string>> = {
    ageGroups: new Set(),
    genders: new Set(),
    ethnicities: new Set(),
    emotions: new Set(),
  };
  readonly exclude: Record<SetKey, Set<string>> = {
    ageGroups: new Set(),
    genders: new Set(),
    ethnicities: new Set(),
    emotions: new Set(),
  };
  readonly rest: Omit<Filter, SetKey> = {};

  add(key: SetKey, values: readonly string[], negated: boolean): void {
    const target = negated ? this.exclude[key] : this.include[key];
    for (const v of values) target.add(v);
  }

  build(): Filter {
    const filter: Filter = {};
    const order: Record<SetKey, readonly string[]> = {
      ageGroups: AGE_GROUPS,
      genders: GENDERS,
      ethnicities: ETHNICITIES,
      emotions: EMOTIONS,
    };
    for (const key of ['ageGroups', 'genders', 'ethnicities', 'emotions'] as const) {
      const include = this.include[key];
      const exclude = this.exclude[key];
      if (include.size === 0 && exclude.size === 0) continue;
      const base = include.size > 0 ? [...include] : [...order[key]];
      const values = order[key].filter((v) => base.includes(v) && !exclude.has(v));
      if (values.length > 0 && values.length < order[key].length) {
        (filter as Record<SetKey, string[]>)[key] = values;
      }
    }
    return { ...filter, ...this.rest };
  }
}

const DATE_RE = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/;

/** The first and last day of a year, month or day written as YYYY, YYYY-MM or YYYY-MM-DD. */
export function dateSpan(text: string): { from: string; to: string } | null {
  const m = DATE_RE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 1800 || year > 2200) return null;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (m[2] === undefined) return { from: `${year}-01-01`, to: `${year}-12-31` };
  const month = Number(m[2]);
  if (month < 1 || month > 12) return null;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (m[3] === undefined) return { from: `${year}-${pad(month)}-01`, to: `${year}-${pad(month)}-${lastDay}` };
  const day = Number(m[3]);
  if (day < 1 || day > lastDay) return null;
  const d = `${year}-${pad(month)}-${pad(day)}`;
  return { from: d, to: d };
}

function shiftDay(iso: string, days: number): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** "80%", "80", "0.8" → 0.8 */
function parseConfidence(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const value = m[2] === '%' || n > 1 ? n / 100 : n;
  return value >= 0 && value <= 1 ? Math.round(value * 1000) / 1000 : null;
}

/** Age expressions: "20-29", "25-45", "20s", "20's", "70+", "35", "<30", ">40". */
function parseAge(text: string): AgeGroup[] | null {
  let m = /^(\d{1,3})-(\d{1,3})$/.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    return a <= b && b <= MAX_AGE ? groupsOverlapping(a, b) : null;
  }
  m = /^(\d{1,2})0'?s$/.exec(text);
  if (m) {
    const start = Number(m[1]) * 10;
    return groupsOverlapping(start, start + 9);
  }
  m = /^(\d{1,3})\+$/.exec(text);
  if (m) return Number(m[1]) <= MAX_AGE ? groupsOverlapping(Number(m[1]), MAX_AGE) : null;
  m = /^([<>])(\d{1,3})$/.exec(text);
  if (m) {
    const n = Number(m[2]);
    if (n > MAX_AGE) return null;
    return m[1] === '<' ? (n === 0 ? null : groupsOverlapping(0, n - 1)) : groupsOverlapping(n + 1, MAX_AGE);
  }
  m = /^(\d{1,3})$/.exec(text);
  if (m && Number(m[1]) <= MAX_AGE) return groupsOverlapping(Number(m[1]), Number(m[1]));
  return null;
}

/** Face counts: "2", "2+", "2-4". */
function parseFaceCount(text: string): [number, number | undefined] | null {
  const m = /^(\d{1,3})(?:(\+)|-(\d{1,3}))?$/.exec(text);
  if (!m) return null;
  const min = Number(m[1]);
  if (m[2]) return [min, undefined];
  const max = m[3] === undefined ? min : Number(m[3]);
  return max >= min ? [min, max] : null;
}

function setFaces(b: Builder, [min, max]: [number, number | undefined]): void {
  if (min > 0) b.rest.minFaces = min;
  else delete b.rest.minFaces;
  if (max !== undefined) b.rest.maxFaces = max;
  else delete b.rest.maxFaces;
}

function labelOf<L extends string>(labels: readonly L[], text: string): L | undefined {
  return labels.find((l) => l === text);
}

export function parseSearch(text: string, options: SearchOptions = {}): ParsedSearch {
  const b = new Builder();
  const unknown: string[] = [];
  const tokens = tokenize(text);

  for (let i = 0; i < tokens.length; i++) {
    const raw = tokens[i] as string;
    const negated = raw.length > 1 && raw.startsWith('-');
    const body = negated ? raw.slice(1) : raw;
    const lower = body.toLowerCase();
    const colon = lower.indexOf(':');
    const key = colon > 0 ? lower.slice(0, colon) : '';
    const value = colon > 0 ? body.slice(colon + 1) : '';
    const lowerValue = value.toLowerCase();
    const next = tokens[i + 1]?.toLowerCase();

    const understood = ((): boolean => {
      if (key) {
        switch (key) {
          case 'emotion': {
            const e = labelOf(EMOTIONS, lowerValue) ?? EMOTION_WORDS[lowerValue];
            if (e) b.add('emotions', [e], negated);
            return e !== undefined;
          }
          case 'gender': {
            const g = labelOf(GENDERS, lowerValue) ?? GENDER_WORDS[lowerValue];
            if (g) b.add('genders', [g], negated);
            return g !== undefined;
          }
          case 'ethnicity': {
            if (options.hideEthnicity) return false;
            const e = labelOf(ETHNICITIES, lowerValue) ?? ETHNICITY_WORDS[lowerValue];
            if (e) b.add('ethnicities', [e], negated);
            return e !== undefined;
          }
          case 'age': {
            const groups = parseAge(lowerValue) ?? AGE_WORDS[lowerValue] ?? null;
            if (groups) b.add('ageGroups', groups, negated);
            return groups !== null;
          }
          case 'faces':
          case 'people': {
            const count = negated ? null : parseFaceCount(lowerValue);
            if (count) setFaces(b, count);
            return count !== null;
          }
          case 'conf':
          case 'confidence': {
            const c = negated ? null : parseConfidence(lowerValue.replace(/^>=?/, ''));
            if (c !== null) b.rest.minConfidence = c;
            return c !== null;
          }
          case 'person': {
            if (negated) return false;
            return addPeople(b, /^\d+$/.test(value) ? [Number(value)] : peopleNamed(value, options));
          }
          case 'in':
          case 'folder': {
            if (negated || value === '') return false;
            b.rest.folder = value;
            return true;
          }
          case 'sure': {
            // sure:gender — hide faces whose gender estimate is uncertain ([Note: per-attribute uncertainty]).
            const attribute = SURE_WORDS[lowerValue];
            if (negated || !attribute || (options.hideEthnicity && attribute === 'ethnicity')) return false;
            b.rest.hideUncertain = [...new Set([...(b.rest.hideUncertain ?? []), attribute])];
            return true;
          }
          case 'is': {
            if (lowerValue !== 'corrected' && lowerValue !== 'uncorrected') return false;
            b.rest.corrected = (lowerValue === 'corrected') !== negated ? 'corrected' : 'uncorrected';
            return true;
          }
          case 'date':
          case 'year':
          case 'from':
          case 'since':
          case 'after':
          case 'to':
          case 'until':
          case 'before': {
            const span = negated ? null : dateSpan(lowerValue);
            if (!span) return false;
            if (key === 'date' || key === 'year' || key === 'from' || key === 'since') b.rest.takenFrom = span.from;
            if (key === 'date' || key === 'year' || key === 'to' || key === 'until') b.rest.takenTo = span.to;
            if (key === 'after') b.rest.takenFrom = shiftDay(span.to, 1);
            if (key === 'before') b.rest.takenTo = shiftDay(span.from, -1);
            return true;
          }
          default:
            return false;
        }
      }

      const emotion = EMOTION_WORDS[lower];
      if (emotion) return (b.add('emotions', [emotion], negated), true);
      const gender = GENDER_WORDS[lower];
      if (gender) return (b.add('genders', [gender], negated), true);
      const ethnicity = ETHNICITY_WORDS[lower];
      if (ethnicity) {
        if (options.hideEthnicity) return false;
        return (b.add('ethnicities', [ethnicity], negated), true);
      }
      const ageWord = AGE_WORDS[lower];
      if (ageWord) return (b.add('ageGroups', ageWord, negated), true);
      const genderAge = GENDER_AGE_WORDS[lower];
      if (genderAge && !negated) {
        b.add('genders', [genderAge[0]], false);
        b.add('ageGroups', genderAge[1], false);
        return true;
      }
      if (lower === 'corrected' || lower === 'uncorrected') {
        b.rest.corrected = (lower === 'corrected') !== negated ? 'corrected' : 'uncorrected';
        return true;
      }
      if (negated) {
        const groups = parseAge(lower);
        if (groups) return (b.add('ageGroups', groups, true), true);
        return false;
      }
      const faceWord = FACE_COUNT_WORDS[lower];
      if (faceWord) return (setFaces(b, faceWord), true);
      if (lower === 'confident' || lower === 'certain') return ((b.rest.minConfidence = 0.8), true);
      // "2 faces", "3+ people", "no faces"
      if (next !== undefined && FACE_NOUNS.has(next)) {
        const count = lower === 'no' ? ([0, 0] as [number, number]) : parseFaceCount(lower);
        if (count) {
          setFaces(b, count);
          i++;
          return true;
        }
      }
      // "80%", ">80%", ">=0.8": a confidence threshold.
      const pct = /^(?:>=?)?(\d+(?:\.\d+)?%)$/.exec(lower) ?? /^>=(\d(?:\.\d+)?)$/.exec(lower);
      if (pct) {
        const c = parseConfidence(pct[1] as string);
        if (c !== null) return ((b.rest.minConfidence = c), true);
      }
      // Dates: 2019, 2019-05, 2019-05-17, 2018-2020.
      const range = /^(\d{4})-(\d{4})$/.exec(lower);
      if (range) {
        const a = dateSpan(range[1] as string);
        const z = dateSpan(range[2] as string);
        if (a && z && a.from <= z.to) {
          b.rest.takenFrom = a.from;
          b.rest.takenTo = z.to;
          return true;
        }
        return false;
      }
      const span = /^\d{4}/.test(lower) ? dateSpan(lower) : null;
      if (span) {
        b.rest.takenFrom = span.from;
        b.rest.takenTo = span.to;
        return true;
      }
      const groups = parseAge(lower);
      if (groups) return (b.add('ageGroups', groups, false), true);
      // A person's name (one word, or quoted).
      return !negated && addPeople(b, peopleNamed(body, options));
    })();
    if (!understood) unknown.push(raw);
  }
  return { filter: b.build(), unknown };
}

function quote(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/"/g, '')}"` : value;
}

/** Writes the set as words, or as exclusions when that is shorter ("-happy" for six emotions). */
function setWords(
  values: readonly string[] | undefined,
  all: readonly string[],
  word: (v: string) => string,
): string[] {
  if (!values || values.length === 0 || values.length >= all.length) return [];
  if (values.length > all.length / 2 + 1) {
    return all.filter((v) => !values.includes(v)).map((v) => `-${word(v)}`);
  }
  return all.filter((v) => values.includes(v)).map(word);
}

function dateWords(from: string | undefined, to: string | undefined): string[] {
  if (from && to) {
    for (const unit of [from.slice(0, 4), from.slice(0, 7), from]) {
      const span = dateSpan(unit);
      if (span && span.from === from && span.to === to) return [unit];
    }
  }
  return [...(from ? [`from:${from}`] : []), ...(to ? [`to:${to}`] : [])];
}

/** The canonical text for a filter: `parseSearch(formatFilter(f)).filter` equals `f` (normalised). */
export function formatFilter(filter: Filter, options: SearchOptions = {}): string {
  const words: string[] = [
    ...setWords(filter.emotions, EMOTIONS, (v) => v),
    ...setWords(filter.ageGroups, AGE_GROUPS, (v) => v),
    ...setWords(filter.genders, GENDERS, (v) => v),
    ...(options.hideEthnicity ? [] : setWords(filter.ethnicities, ETHNICITIES, (v) => `ethnicity:${v}`)),
  ];
  // Plain words read better than key:value for ethnicities that have one.
  for (let i = 0; i < words.length; i++) {
    words[i] = (words[i] as string).replace(/^(-?)ethnicity:(white|black|asian|indian)$/, '$1$2');
  }
  const { minFaces, maxFaces } = filter;
  if (minFaces !== undefined || maxFaces !== undefined) {
    const min = minFaces ?? 0;
    if (maxFaces === undefined) words.push(`faces:${min}+`);
    else words.push(min === maxFaces ? `faces:${min}` : `faces:${min}-${maxFaces}`);
  }
  if (filter.minConfidence !== undefined && filter.minConfidence > 0) {
    words.push(`conf:${Math.round(filter.minConfidence * 1000) / 10}%`);
  }
  words.push(...dateWords(filter.takenFrom, filter.takenTo));
  if (filter.folder) words.push(`in:${quote(filter.folder)}`);
  if (filter.corrected === 'corrected') words.push('corrected');
  if (filter.corrected === 'uncorrected') words.push('-corrected');
  for (const a of filter.hideUncertain ?? []) {
    if (!(options.hideEthnicity && a === 'ethnicity')) words.push(`sure:${a === 'ageGroup' ? 'age' : a}`);
  }
  for (const id of filter.people ?? []) {
    const name = options.people?.find((p) => p.id === id)?.name;
    words.push(name && peopleNamed(name, options).length === 1 ? quote(name) : `person:${id}`);
  }
  return words.join(' ');
}

const SURE_WORDS: Record<string, Attribute> = {
  age: 'ageGroup',
  agegroup: 'ageGroup',
  gender: 'gender',
  ethnicity: 'ethnicity',
  emotion: 'emotion',
};

/** True when the filter narrows nothing. */
export function isEmptyFilter(filter: Filter): boolean {
  return Object.values(filter).every((v) => v === undefined || (Array.isArray(v) && v.length === 0));
}
