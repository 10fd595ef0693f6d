/**
 * What the packaged app contains ([Note: what the app ships], electron-builder.yml): every module the
 * app's entry points import, followed through their relative imports, is packaged, and none of it is
 * research or model-building code; no compiled research/, models/build/ or CLI file is packaged; the
 * files the app reads from its models folder at run time ship as extra resources.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.js';

/** The entries of a top-level list in electron-builder.yml (`key:` then `  - item` lines). */
function yamlList(yaml: string, key: string): string[] {
  const lines = yaml.split('\n');
  const start = lines.indexOf(`${key}:`);
  assert.ok(start >= 0, `electron-builder.yml has no ${key}`);
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const item = /^ {2}- (.+)$/.exec(line)?.[1];
    if (item !== undefined) items.push(item.trim().replace(/^'(.*)'$/, '$1'));
    else {
      const continued = /^ {4}(\w+): (.+)$/.exec(line);
      if (continued) items[items.length - 1] += `\n${continued[1]}: ${continued[2]}`;
    }
  }
  return items;
}

/** electron-builder's file patterns, in order, the last match deciding (`!` excludes). */
function packaged(patterns: readonly string[], file: string): boolean {
  let included = false;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    const regex = new RegExp(
      `^${glob
        .split(/(\*\*\/|\*\*|\*)/)
        .map((part) =>
          part === '**/'
            ? '(?:.*/)?'
            : part === '**'
              ? '.*'
              : part === '*'
                ? '[^/]*'
                : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('')}$`,
    );
    if (regex.test(file)) included = !negated;
  }
  return included;
}

/** Relative imports of a TypeScript source (static, side-effect and dynamic with a literal). */
function relativeImports(file: string): string[] {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [...source.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1] as string);
  return specs.map((spec) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), spec.replace(/\.js$/, '.ts'))),
  );
}

function sources(dir: string): string[] {
  if (!existsSync(path.join(ROOT, dir))) return [];
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.posix.join(path.relative(ROOT, e.parentPath).split(path.sep).join('/'), e.name));
}

const builder = readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8');
const files = yamlList(builder, 'files');
const compiled = (source: string) => `dist/${source.replace(/\.ts$/, '.js')}`;

/** The modules the app starts from: Electron's main, the backend's utility process, the worker threads. */
const ENTRIES = [
  'main/electron/main.ts',
  'main/host/host-utility-entry.ts',
  'main/host/host-worker.ts',
  'main/library/worker.ts',
  'main/learning/learn-worker.ts',
];

test("the app's modules are all packaged, and none is research or model building", () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string };
  assert.equal(pkg.main, compiled(ENTRIES[0] as string));
  const seen = new Set<string>();
  const todo = [...ENTRIES];
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    assert.ok(existsSync(path.join(ROOT, file)), `${file} (imported by the app) exists`);
    todo.push(...relativeImports(file));
  }
  assert.ok(seen.size > 50, `followed ${seen.size} modules`);
  for (const file of seen) {
    assert.ok(file.startsWith('main/') && !file.startsWith('main/cli/'), `the app imports ${file}`);
    assert.ok(packaged(files, compiled(file)), `${compiled(file)} is packaged`);
  }
  for (const file of ['dist/preload/preload.cjs', 'dist/renderer/index.html', 'package.json']) {
    assert.ok(packaged(files, file), `${file} is packaged`);
  }
});

test('no research, model-building or CLI code is packaged', () => {
  const outside = [...sources('research'), ...sources('models/build'), ...sources('main/cli')];
  assert.ok(outside.some((f) => f.startsWith('research/heads/')) && outside.some((f) => f.startsWith('models/build/')));
  for (const file of outside) assert.equal(packaged(files, compiled(file)), false, `${compiled(file)} is not packaged`);
  assert.equal(packaged(files, 'dist/main/engine/analyzer.js.map'), false);
  // The build output itself, where there is one.
  if (existsSync(path.join(ROOT, 'dist'))) {
    const built = readdirSync(path.join(ROOT, 'dist'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.posix.join(path.relative(ROOT, e.parentPath).split(path.sep).join('/'), e.name));
    const shipped = built.filter((f) => packaged(files, f));
    assert.ok(shipped.some((f) => f === 'dist/main/electron/main.js'));
    assert.deepEqual(
      shipped.filter((f) => /^dist\/(research|models|main\/cli)\//.test(f)),
      [],
      'packaged files of the build',
    );
  }
});

test('what the app reads from its models folder ships as extra resources', () => {
  const resources = yamlList(builder, 'extraResources').map((item) => {
    const from = /from: (\S+)/.exec(item)?.[1];
    const to = /to: (\S+)/.exec(item)?.[1];
    assert.ok(from && to, item);
    return { from, to };
  });
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'models', 'manifest.json'), 'utf8')) as {
    models: { file: string }[];
  };
  // The manifest, each model's ONNX file (sessions.ts), the shipped heads (engine/attributes/heads.ts).
  const needed = ['manifest.json', ...manifest.models.map((m) => m.file), 'shipped/manifest.json'];
  for (const file of needed) {
    const source = `models/${file}`;
    const resource = resources.find((r) => source === r.from || source.startsWith(`${r.from}/`));
    assert.ok(resource, `${source} ships as an extra resource`);
    assert.equal(resource.to, resource.from, `${source} keeps its place under resources/`);
  }
});
