/**
 * The desktop shell's security policy, tested under Node (issue 12, defect 7): Electron itself cannot
 * run here, so its policy lives in main/electron/policy.ts and the packaging config, checked below.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  RENDERER_CSP,
  RENDERER_URL,
  appHeaders,
  isAllowedExternalUrl,
  resolveAppFile,
} from '../../main/electron/policy.js';
import { ROOT } from '../helpers/cli.js';

test('external links: only https pages on the allow-list', () => {
  for (const url of ['https://github.com/vladmandic/human', 'https://onnxruntime.ai/docs/']) {
    assert.ok(isAllowedExternalUrl(url), url);
  }
  for (const url of [
    'http://github.com/x',
    'https://github.com.evil.example/',
    'https://evil.example/https://github.com/',
    'https://user:pw@github.com/',
    'https://github.com:8443/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'facets-media://photo/1',
    'smb://server/share',
    'not a url',
  ]) {
    assert.ok(!isAllowedExternalUrl(url), url);
  }
});

test('the app protocol serves the renderer folder only, with the CSP as a header', () => {
  const dir = path.join(ROOT, 'dist', 'renderer');
  assert.equal(resolveAppFile(dir, RENDERER_URL), path.join(dir, 'index.html'));
  assert.equal(resolveAppFile(dir, 'facets-app://renderer/assets/x.js'), path.join(dir, 'assets', 'x.js'));
  for (const url of [
    'facets-app://renderer/../package.json',
    'facets-app://renderer/%2e%2e/package.json',
    'facets-app://renderer/..%2f..%2fpackage.json',
    'facets-app://renderer/%2e%2e%5cpackage.json',
    'facets-app://renderer/%00',
    'facets-app://other/index.html',
    'facets-app://renderer:81/index.html',
    'file:///etc/passwd',
    'facets-media://renderer/index.html',
  ]) {
    const file = resolveAppFile(dir, url);
    assert.ok(file === null || file.startsWith(dir + path.sep), `${url} → ${file}`);
    assert.notEqual(file, path.join(ROOT, 'package.json'), url);
  }
  const headers = appHeaders(path.join(dir, 'index.html'));
  assert.equal(headers['Content-Security-Policy'], RENDERER_CSP);
  assert.equal(headers['Content-Type'], 'text/html; charset=utf-8');
  assert.equal(headers['X-Content-Type-Options'], 'nosniff');
});

test("the header CSP and the page's meta CSP say the same (the header adds frame-ancestors)", () => {
  const html = readFileSync(path.join(ROOT, 'renderer', 'index.html'), 'utf8');
  const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  assert.ok(meta);
  const directives = (csp: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .filter((d) => d && !d.startsWith('frame-ancestors'))
      .sort();
  assert.deepEqual(directives(RENDERER_CSP), directives(meta));
  assert.match(RENDERER_CSP, /frame-ancestors 'none'/);
});

test('packaging flips the fuses: no RunAsNode, NODE_OPTIONS or inspect arguments; ASAR integrity on', () => {
  const yml = readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8');
  const block = /^electronFuses:\n((?: {2}\w+: \w+\n)+)/m.exec(yml)?.[1] ?? '';
  const fuses = Object.fromEntries(
    block
      .trim()
      .split('\n')
      .map((line) => line.trim().split(': ') as [string, string]),
  );
  assert.deepEqual(
    {
      runAsNode: fuses['runAsNode'],
      enableNodeOptionsEnvironmentVariable: fuses['enableNodeOptionsEnvironmentVariable'],
      enableNodeCliInspectArguments: fuses['enableNodeCliInspectArguments'],
      enableEmbeddedAsarIntegrityValidation: fuses['enableEmbeddedAsarIntegrityValidation'],
      onlyLoadAppFromAsar: fuses['onlyLoadAppFromAsar'],
    },
    {
      runAsNode: 'false',
      enableNodeOptionsEnvironmentVariable: 'false',
      enableNodeCliInspectArguments: 'false',
      enableEmbeddedAsarIntegrityValidation: 'true',
      onlyLoadAppFromAsar: 'true',
    },
  );
  // Every key is one electron-builder knows (a typo would be ignored silently at packaging).
  const schema = JSON.parse(
    readFileSync(path.join(ROOT, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8'),
  ) as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };
  for (const key of Object.keys(fuses)) {
    assert.ok(key in schema.definitions.FuseOptionsV1.properties, `${key} is an electron-builder fuse option`);
  }
});

test('the main process enables the sandbox for every renderer and serves the app protocol', () => {
  const main = readFileSync(path.join(ROOT, 'main', 'electron', 'main.ts'), 'utf8');
  assert.match(main, /^app\.enableSandbox\(\);$/m);
  assert.match(main, /handleAppProtocol\(rendererDir\)/);
  assert.match(main, /win\.loadURL\(rendererUrl\)/);
  assert.doesNotMatch(main, /loadFile\(/);
  assert.match(main, /isAllowedExternalUrl\(url\)/);
});
