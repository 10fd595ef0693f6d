import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ApiError } from '../../main/api/backend.js';
import { CHANNELS } from '../../main/api/contract.js';
import { validateRequest } from '../../main/api/handlers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'facets-validate-'));
const file = path.join(dir, 'a file.jpg');
writeFileSync(file, 'x');
after(() => rmSync(dir, { recursive: true, force: true }));

function refused(channel: Parameters<typeof validateRequest>[0], request: unknown, message: RegExp) {
  assert.throws(
    () => validateRequest(channel, request),
    (err: unknown) => err instanceof ApiError && err.status === 400 && message.test(err.message),
    `${channel} ${JSON.stringify(request)} should be refused with ${message}`,
  );
}

const page = { offset: 0, limit: 50 };

test('every channel has a validator, and parameterless ones take nothing', () => {
  for (const channel of CHANNELS) assert.doesNotThrow(() => validateRequest(channel, probe(channel)), channel);
  assert.deepEqual(validateRequest('scan:start', undefined), {});
  refused('app:info', { extra: 1 }, /takes no parameters/);
  assert.throws(
    () => validateRequest('fs:read' as never, {}),
    (e: unknown) => e instanceof ApiError && e.status === 404,
  );
});

function probe(channel: (typeof CHANNELS)[number]): unknown {
  switch (channel) {
    case 'settings:update':
      return { theme: 'dark' };
    case 'folders:add':
    case 'folders:remove':
      return { path: dir };
    case 'scan:start':
      return { folders: [dir] };
    case 'photos:query':
    case 'faces:query':
      return { filter: {}, page };
    case 'facets:get':
      return { filter: {}, target: 'faces' };
    case 'photo:get':
    case 'face:get':
      return { id: 1 };
    case 'faces:correct':
      return { faceIds: [1, 2], attribute: 'emotion', value: 'happy' };
    case 'faces:uncorrect':
      return { faceIds: [1], attribute: 'gender' };
    case 'errors:list':
      return { page };
    case 'errors:ignore':
      return { photoIds: [1], ignored: true };
    case 'people:list':
      return { page, includeHidden: true };
    case 'people:get':
    case 'people:suggestions':
      return { id: 1 };
    case 'people:names':
      return { prefix: 'An' };
    case 'people:counts':
      return { filter: { people: [1], emotions: ['happy'] } };
    case 'people:name':
      return { id: 1, name: null };
    case 'people:merge':
      return { into: 1, from: 2 };
    case 'people:hide':
      return { id: 1, hidden: true };
    case 'people:assign':
      return { faceIds: [1], name: 'Anna' };
    case 'people:confirm':
    case 'people:remove':
    case 'faces:reject':
      return { faceIds: [1] };
    case 'faces:restore':
      return { ids: [1] };
    case 'faces:rejected':
      return { photoId: 1 };
    case 'faces:add':
      return { photoId: 1, box: { x: 10, y: 20, width: 100, height: 120 }, name: 'Anna' };
    default:
      return undefined;
  }
}

test('people requests: one target for assign, names are text', () => {
  refused('people:assign', { faceIds: [1] }, /personId or a name/);
  refused('people:assign', { faceIds: [1], personId: 2, name: 'Anna' }, /personId or a name/);
  refused('people:name', { id: 1, name: 5 }, /expected text/);
  refused('people:name', { id: 1 }, /name: required/);
  refused('photos:query', { filter: { people: [0] }, page }, /people\[0\]/);
});

test('face management requests: ids, a box of four numbers, a name as text', () => {
  refused('faces:reject', { faceIds: [] }, /at least 1 item/);
  refused('faces:restore', { ids: [0] }, /ids\[0\]/);
  refused('faces:add', { photoId: 1, box: { x: 1, y: 2, width: 3 } }, /box\.height: required/);
  refused('faces:add', { photoId: 1, box: { x: 1, y: 2, width: -3, height: 4 } }, /box\.width: must be between/);
  refused('faces:add', { photoId: 1, box: { x: 1, y: 2, width: 3, height: 4 }, name: 7 }, /expected text/);
  refused('faces:add', { photoId: 1, box: [1, 2, 3, 4] }, /box: expected an object/);
});

test('unknown keys and wrong types are refused, naming the field', () => {
  refused('photos:query', { filter: {}, page, order: 'date' }, /request\.order: unknown field/);
  refused('photos:query', { filter: {}, page, sort: 'date' }, /request\.sort: expected one of taken, name, faces/);
  refused('photos:query', { filter: { emotion: ['happy'] }, page }, /request\.filter\.emotion: unknown field/);
  refused('photos:query', { filter: { emotions: 'happy' }, page }, /filter\.emotions: expected an array/);
  refused('photos:query', { filter: { emotions: ['joyful'] }, page }, /emotions\[0\]: expected one of/);
  refused('photos:query', { filter: { minConfidence: 1.5 }, page }, /between 0 and 1/);
  refused('photos:query', { filter: { minConfidence: '0.5' }, page }, /expected a number/);
  refused('photos:query', { filter: {} }, /request\.page: required/);
  refused('photos:query', 'photos please', /expected an object/);
  refused('photos:query', null, /expected an object/);
  refused('settings:update', { theme: 'purple' }, /theme: expected one of system, light, dark/);
  refused('settings:update', { hideEthnicity: 'yes' }, /expected true or false/);
  refused('settings:update', { analysis: { maxSide: 1280, minFaceSize: 20 } }, /thresholds: required/);
  refused(
    'settings:update',
    { analysis: { maxSide: 1280, minFaceSize: 20, thresholds: [0.6, 0.7] } },
    /three thresholds/,
  );
  refused('facets:get', { filter: {}, target: 'people' }, /target: expected one of photos, faces/);
  refused(
    'settings:update',
    { xmp: { keepUpToDate: true, sidecar: 'XMP', keywords: [] } },
    /xmp\.sidecar: expected one of jpg\.xmp, xmp/,
  );
  refused(
    'settings:update',
    { xmp: { keepUpToDate: true, sidecar: 'xmp', keywords: ['name'] } },
    /xmp\.keywords\[0\]: expected one of ageGroup/,
  );
  refused('settings:update', { xmp: { keepUpToDate: 1, sidecar: 'xmp', keywords: [] } }, /keepUpToDate: expected true/);
});

test('pages hold at most 500 items; ids are positive integers', () => {
  refused('faces:query', { filter: {}, page: { offset: 0, limit: 501 } }, /limit: must be between 1 and 500/);
  refused('faces:query', { filter: {}, page: { offset: -1, limit: 10 } }, /offset: must be between 0/);
  refused('faces:query', { filter: {}, page: { offset: 0.5, limit: 10 } }, /expected an integer/);
  refused('photo:get', { id: 0 }, /id: must be between 1/);
  refused('photo:get', { id: 1.5 }, /expected an integer/);
  refused('photo:get', { id: '7' }, /expected an integer/);
  refused('face:get', {}, /id: required/);
  refused('faces:correct', { faceIds: [], attribute: 'emotion', value: 'happy' }, /at least 1/);
  refused('faces:correct', { faceIds: [1, -2], attribute: 'emotion', value: 'happy' }, /faceIds\[1\]/);
});

test('folders must be absolute paths of existing directories, and are normalised', () => {
  refused('folders:add', { path: 'photos/relative' }, /is not an absolute path/);
  refused('folders:add', { path: path.join(dir, 'nope') }, /does not exist/);
  refused('folders:add', { path: file }, /is not a folder/);
  refused('folders:add', { path: '' }, /expected a folder path/);
  refused('scan:start', { folders: ['relative'] }, /not an absolute path/);
  refused('photos:query', { filter: { folder: path.join(dir, 'nope') }, page }, /does not exist/);
  assert.deepEqual(validateRequest('folders:add', { path: `${dir}${path.sep}` }), { path: dir });
  assert.deepEqual(validateRequest('folders:add', { path: path.join(dir, 'x', '..') }), { path: dir });
  assert.deepEqual(validateRequest('folders:remove', { path: path.join(dir, 'gone') }), {
    path: path.join(dir, 'gone'),
  });
  assert.deepEqual(validateRequest('settings:update', { folders: [dir, dir] }), { folders: [dir] });
});

test('dates are calendar dates in order; face counts in order; labels fit their attribute', () => {
  refused('photos:query', { filter: { takenFrom: '2021-02-30' }, page }, /not a calendar date/);
  refused('photos:query', { filter: { takenFrom: '2021/02/03' }, page }, /YYYY-MM-DD/);
  refused(
    'photos:query',
    { filter: { takenFrom: '2021-05-01', takenTo: '2021-04-01' }, page },
    /takenTo: is before takenFrom/,
  );
  refused('photos:query', { filter: { minFaces: 3, maxFaces: 2 }, page }, /maxFaces: is below minFaces/);
  refused(
    'faces:correct',
    { faceIds: [1], attribute: 'gender', value: 'happy' },
    /value: expected one of male, female/,
  );
  refused('faces:correct', { faceIds: [1], attribute: 'mood', value: 'happy' }, /attribute: expected one of/);
  assert.deepEqual(validateRequest('faces:correct', { faceIds: [3, 3, 4], attribute: 'ageGroup', value: '70+' }), {
    faceIds: [3, 4],
    attribute: 'ageGroup',
    value: '70+',
  });
});

test('inherited names are unknown fields like any other: __proto__, constructor, toString, hasOwnProperty', () => {
  for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    // As JSON.parse makes them (own properties), exactly as a request body arrives.
    const body = JSON.parse(`{"page": {"offset": 0, "limit": 10}, "${key}": {"polluted": true}}`) as unknown;
    refused('errors:list', body, new RegExp(`${key}: unknown field`));
    const filter = JSON.parse(`{"filter": {"${key}": 1}, "page": {"offset": 0, "limit": 10}}`) as unknown;
    refused('photos:query', filter, new RegExp(`filter\\.${key}: unknown field`));
    refused('settings:update', JSON.parse(`{"${key}": {}}`) as unknown, new RegExp(`${key}: unknown`));
  }
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
});
