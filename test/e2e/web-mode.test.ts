import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { type Served, serve } from '../helpers/serve.js';

describe('facets serve (web mode)', () => {
  let server: Served;
  before(async () => {
    server = await serve();
  });
  after(() => server.stop());

  test('answers 401 without the token', async () => {
    for (const p of ['/', '/index.html', '/api/app:info']) {
      const res = await fetch(`${server.origin}${p}`, { method: p.startsWith('/api') ? 'POST' : 'GET' });
      assert.equal(res.status, 401, p);
    }
    const wrong = await fetch(`${server.origin}/?token=not-the-token`, { redirect: 'manual' });
    assert.equal(wrong.status, 401);
  });

  test('binds to 127.0.0.1 and refuses foreign Host headers', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
    const res = await fetch(`${server.origin}/`, {
      headers: { Host: 'evil.example', Authorization: `Bearer ${server.token}` },
    });
    assert.equal(res.status, 403);
  });

  test('the API answers with the token, and rejects unknown channels', async () => {
    const headers = { Authorization: `Bearer ${server.token}` };
    const ok = await fetch(`${server.origin}/api/app:info`, { method: 'POST', headers });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { result: { name: string; version: string } };
    assert.equal(body.result.name, 'Facets');
    const unknown = await fetch(`${server.origin}/api/fs:read`, { method: 'POST', headers });
    assert.equal(unknown.status, 404);
  });

  test('static files never escape the renderer folder', async () => {
    const headers = { Authorization: `Bearer ${server.token}` };
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/assets/../../package.json']) {
      const res = await fetch(`${server.origin}${p}`, { headers });
      assert.equal(res.status, 404, p);
    }
  });

  test('the UI loads in Chromium through the printed URL, under a strict CSP', async (t) => {
    const missing = chromiumMissing();
    if (missing) return t.skip(missing);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      const res = await page.goto(server.url);
      assert.equal(res?.status(), 200);
      assert.ok(!page.url().includes('token='), 'the token is swapped for a cookie and removed from the URL');
      await page.getByRole('heading', { name: 'Facets' }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
