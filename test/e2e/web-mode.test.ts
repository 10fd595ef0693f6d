import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing, collectProblems, launchChromium } from '../helpers/browser.js';
import { type Served, serve } from '../helpers/serve.js';

/** A raw HTTP request: unlike fetch, it sends the path exactly as written (no `..` clean-up). */
function raw(
  server: Served,
  pathname: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(server.origin);
    const req = http.request(
      { host: url.hostname, port: url.port, path: pathname, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('latin1')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('facets serve (web mode)', () => {
  let server: Served;
  let auth: http.OutgoingHttpHeaders;
  before(async () => {
    server = await serve();
    auth = { Authorization: `Bearer ${server.token}` };
  });
  after(() => server.stop());

  test('answers 401 without the token on the API, the events and the media; the static build is public', async () => {
    const routes: [string, string][] = [
      ['POST', '/api/app:info'],
      ['GET', '/api/events'],
      ['GET', '/media/photo/1'],
      ['GET', '/media/thumb/1'],
      ['GET', `/media/not-the-key/thumb/1`],
      ['GET', `/media/${server.token}/thumb/1`], // the API token is not the media key
    ];
    for (const [method, p] of routes) {
      const res = await fetch(`${server.origin}${p}`, { method });
      assert.equal(res.status, 401, `${method} ${p}`);
    }
    // The media key reads images, nothing else.
    const withKey = await fetch(`${server.origin}/api/app:info`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.mediaKey}` },
    });
    assert.equal(withKey.status, 401);
    const page = await fetch(`${server.origin}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  });

  test('no credential rides on a cookie: none is set, and a cookie with the token authorises nothing', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+&media=[\w-]+$/);
    for (const p of ['/', `/?token=${server.token}`, '/index.html']) {
      const res = await fetch(`${server.origin}${p}`, { redirect: 'manual' });
      assert.equal(res.headers.get('set-cookie'), null, p);
    }
    const info = await raw(server, '/api/app:info', {
      method: 'POST',
      headers: { Cookie: `facets_token=${server.token}` },
    });
    assert.equal(info.status, 401);
    const events = await raw(server, '/api/events', { headers: { Cookie: `facets_token=${server.token}` } });
    assert.equal(events.status, 401);
  });

  test('binds to 127.0.0.1 and refuses foreign Host and Origin headers', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
    assert.match(server.output(), /^Library: .*library\.db$/m);
    const host = await raw(server, '/', { headers: { ...auth, Host: 'evil.example' } });
    assert.equal(host.status, 403);
    const origin = await raw(server, '/api/app:info', {
      method: 'POST',
      headers: { ...auth, Origin: 'http://evil.example' },
    });
    assert.equal(origin.status, 403);
  });

  test('the API answers with the token and validates at the boundary', async () => {
    const info = await server.api<{ name: string; version: string; database: string }>('app:info');
    assert.equal(info.name, 'Facets');
    assert.equal(info.database, server.db);

    const json = { ...auth, 'Content-Type': 'application/json' };
    const cases: [string, { method?: string; headers?: http.OutgoingHttpHeaders; body?: string }, number][] = [
      ['/api/fs:read', { method: 'POST', headers: json }, 404],
      ['/api/APP:INFO', { method: 'POST', headers: json }, 404],
      ['/api/app%3Ainfo', { method: 'POST', headers: json }, 404],
      ['/api/app:info', { method: 'GET', headers: auth }, 405],
      ['/api/photos:query', { method: 'POST', headers: json, body: '{not json' }, 400],
      ['/api/photos:query', { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: '{}' }, 415],
      ['/api/photos:query', { method: 'POST', headers: auth, body: '{}' }, 415],
      ['/api/photos:query', { method: 'POST', headers: json, body: `"${'x'.repeat(1_100_000)}"` }, 413],
    ];
    for (const [p, options, status] of cases) {
      const res = await raw(server, p, { method: 'POST', ...options });
      assert.equal(res.status, status, `${options.method ?? 'POST'} ${p}`);
      assert.ok(typeof (JSON.parse(res.body) as { error?: string }).error === 'string', p);
    }
  });

  test('static files never escape the renderer folder', async () => {
    for (const p of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/assets/../../package.json',
      '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/..\\package.json',
      '/%00',
    ]) {
      const res = await raw(server, p, { headers: auth });
      assert.ok([400, 404].includes(res.status), `${p}: ${res.status}`);
      assert.ok(!res.body.includes('"devDependencies"'), p);
    }
  });

  test('the media route takes only a kind and an id: paths outside the library and traversal are refused', async () => {
    const refused = [
      '/media/photo/%2Fetc%2Fpasswd',
      '/media/photo//etc/passwd',
      '/media/photo/../../../../etc/passwd',
      '/media/photo/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/media/photo/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      `/media/photo/${encodeURIComponent(server.db)}`,
      '/media/photo/1?path=/etc/passwd',
      '/media/photo/1/../../etc/passwd',
      '/media/file/1',
      '/media/photo/0',
      '/media/photo/-1',
      '/media/photo/1e3',
      '/media/photo/0x10',
      '/media/photo/99999999999999999999',
      '/media/photo/123456789', // a well-formed id the library does not know
      '/media/face/123456789',
      '/media/thumb/123456789',
    ];
    for (const p of refused) {
      const res = await raw(server, p.replace(/^\/media\//, `/media/${server.mediaKey}/`), { headers: auth });
      assert.ok([400, 404].includes(res.status), `${p}: ${res.status}`);
      assert.ok(!res.body.includes('root:'), p);
      assert.ok(!/SQLite format/.test(res.body), p);
    }
    const post = await raw(server, `/media/${server.mediaKey}/photo/1`, { method: 'POST', headers: auth });
    assert.equal(post.status, 405);
  });

  test('events stream over server-sent events, with the token only', async () => {
    const res = await fetch(`${server.origin}/api/events`, { headers: { Authorization: `Bearer ${server.token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^retry: \d+/);
    await reader.cancel();
  });

  test('the UI loads in Chromium through the printed URL, under a strict CSP', async (t) => {
    const missing = chromiumMissing();
    if (missing) return t.skip(missing);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems = collectProblems(page);
      const res = await page.goto(server.url);
      assert.equal(res?.status(), 200);
      assert.ok(!page.url().includes('token='), 'the token is taken from the fragment and removed from the URL');
      // A fresh library starts on the welcome screen, which asks for a typed folder path in a browser.
      await page.getByRole('heading', { name: 'Welcome to Facets' }).waitFor();
      await page.getByLabel('Folder path').waitFor();
      assert.equal(await page.evaluate(() => typeof (window as { facets?: unknown }).facets), 'undefined');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });

  test('Chromium: a page from another 127.0.0.1 port learns nothing that authorises a request', async (t) => {
    const missing = chromiumMissing();
    if (missing) return t.skip(missing);
    // Another local web server the user happens to open in the same browser; it records what it receives.
    const seen: string[] = [];
    const other = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>other</title><img src="/pixel.png">');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherOrigin = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.url);
      await page.getByRole('heading', { name: 'Welcome to Facets' }).waitFor();
      // The page is signed in: its API calls went through (the welcome screen needs settings:get).
      assert.equal(await page.evaluate(() => window.location.hash), '');

      const foreign = await context.newPage();
      await foreign.goto(`${otherOrigin}/`);
      const found = await foreign.evaluate(async (facets) => {
        const attempts: Record<string, number | string> = {};
        for (const [name, init] of [
          ['include', { method: 'POST', credentials: 'include' }],
          ['no-cors', { method: 'POST', credentials: 'include', mode: 'no-cors' }],
        ] as const) {
          try {
            const res = await fetch(`${facets}/api/app:info`, init);
            attempts[name] = res.status;
          } catch (err) {
            attempts[name] = String(err);
          }
        }
        return {
          cookie: document.cookie,
          local: JSON.stringify({ ...localStorage }),
          session: JSON.stringify({ ...sessionStorage }),
          attempts,
        };
      }, server.origin);
      const secrets = [server.token, server.mediaKey];
      const learned = JSON.stringify(found) + seen.join('\n');
      for (const secret of secrets) assert.ok(!learned.includes(secret), 'a secret reached the other origin');
      assert.equal(found.cookie, '');
      // A credentialed request from the other port is refused (its Origin is foreign; no cookie would help).
      assert.ok(found.attempts['include'] !== 200 && found.attempts['no-cors'] !== 200, JSON.stringify(found.attempts));
      assert.ok(seen.length > 0, 'the other server was visited');
      for (const request of seen) assert.ok(!/"cookie"/i.test(request), `a cookie went to the other port: ${request}`);
      const cookies = await context.cookies();
      assert.deepEqual(cookies, [], 'Facets sets no cookie at all');
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
