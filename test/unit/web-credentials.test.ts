import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEventStream, readCredentials } from '../../renderer/src/lib/api/http.js';

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

function fakeLocation(href: string): { location: Location; history: History; replaced: string[] } {
  const url = new URL(href);
  const replaced: string[] = [];
  const location = { hash: url.hash, pathname: url.pathname, search: url.search } as Location;
  const history = { replaceState: (_s: unknown, _t: string, to: string) => replaced.push(to) } as unknown as History;
  return { location, history, replaced };
}

test('the printed URL fragment gives the credentials, which leave the address bar and survive a reload', () => {
  const storage = new MemoryStorage() as unknown as Storage;
  const first = fakeLocation('http://127.0.0.1:5000/#token=abc-1&media=def_2');
  assert.deepEqual(readCredentials(first.location, first.history, storage), { token: 'abc-1', media: 'def_2' });
  assert.deepEqual(first.replaced, ['/']);
  const reload = fakeLocation('http://127.0.0.1:5000/');
  assert.deepEqual(readCredentials(reload.location, reload.history, storage), { token: 'abc-1', media: 'def_2' });
  assert.deepEqual(reload.replaced, []);
  const fresh = fakeLocation('http://127.0.0.1:5000/?token=abc');
  assert.equal(readCredentials(fresh.location, fresh.history, new MemoryStorage() as unknown as Storage), null);
});

test('the event stream parser splits events, skips comments and keeps a partial event for later', () => {
  const seen: [string, string][] = [];
  const rest = parseEventStream(
    'retry: 2000\n\n: keep-alive\n\nevent: scan:progress\ndata: {"a":1}\n\nevent: library:changed\ndata: {}\n\nevent: x\nda',
    (e, d) => seen.push([e, d]),
  );
  assert.deepEqual(seen, [
    ['scan:progress', '{"a":1}'],
    ['library:changed', '{}'],
  ]);
  assert.equal(rest, 'event: x\nda');
});
