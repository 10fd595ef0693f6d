/** The API's validation messages, as the UI shows them next to the field (renderer/src/lib/errors.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { validateRequest } from '../../main/api/handlers.js';
import { plainError } from '../../renderer/src/lib/errors.js';

/** The message the real validator gives for this request. */
function messageFor(channel: 'folders:add' | 'settings:update', request: unknown): string {
  try {
    validateRequest(channel, request);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the request was accepted');
}

test('folder errors read as plain sentences, naming the folder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facets-plain-'));
  try {
    const missing = path.join(dir, 'nowhere');
    const raw = messageFor('folders:add', { path: missing });
    assert.match(raw, /does not exist/);
    assert.equal(
      plainError(new Error(raw)),
      `There is no folder at ${missing}. Check the spelling, or choose another folder.`,
    );
    const file = path.join(dir, 'photo.jpg');
    writeFileSync(file, 'x');
    assert.match(plainError(new Error(messageFor('folders:add', { path: file }))), /is a file, not a folder/);
    assert.match(plainError(new Error(messageFor('folders:add', { path: 'Pictures' }))), /^Type the full path/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('number errors name the allowed range; unknown messages lose the request prefix', () => {
  const raw = messageFor('settings:update', {
    analysis: { maxSide: 10, minFaceSize: 20, thresholds: [0.6, 0.7, 0.7], tiltedFaces: false },
  });
  assert.match(plainError(new Error(raw)), /^Choose a value from \d+ to \d+\.$/);
  assert.equal(plainError(new Error('request.x: something odd')), 'Something odd');
});
