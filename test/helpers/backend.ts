/**
 * Assertions for the tests of the backend both transports use.
 */
import assert from 'node:assert/strict';
import { ApiError } from '../../main/api/backend.js';

/** Asserts that `promise` rejects with an ApiError of HTTP status `status` (and a message matching `message`). */
export async function refused(promise: Promise<unknown>, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, status, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}
