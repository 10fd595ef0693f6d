/**
 * The library commands as a user runs them (the real CLI in a child process): scan, query, stats,
 * export, purge, and scan --watch picking up added, changed, moved and deleted files.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { FaceRecord } from '../../main/library/export.js';
import type { ScanSummary } from '../../main/library/scanner.js';
import { copyInto, facetsFromSources, finished, sample, spawnFacets } from '../helpers/library-fixtures.js';

describe('facets scan / query / stats / export / purge', { timeout: 240_000 }, () => {
  let work: string;
  let photos: string;
  let db: string;
  const cli = async (...args: string[]) => {
    const r = await facetsFromSources([...args, '--db', db]);
    assert.equal(r.code, 0, `facets ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-cli-'));
    photos = path.join(work, 'Holiday photos');
    copyInto(photos, [1, 2, 3, 4, 5, 6].map(sample));
    db = path.join(work, 'library.db');
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('scan: adds the folder, prints plain progress off a terminal and a JSON summary', async () => {
    const r = await cli('scan', photos, '--json');
    const summary = JSON.parse(r.stdout) as ScanSummary;
    assert.equal(summary.state, 'completed');
    assert.equal(summary.counts.added, 6);
    assert.match(r.stderr, /done 6\/6 \(100%\)/, 'a plain progress line, no terminal escapes');
    assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b['), 'no carriage returns or terminal escapes');
    const again = JSON.parse((await cli('scan', '--json')).stdout) as ScanSummary;
    assert.equal(again.counts.unchanged, 6, 'with no folder named, the library folders are rescanned');
    assert.equal(again.counts.inferences, 0);
    // As text, a quiet rescan says so, and where the library is.
    const quiet = await cli('scan');
    assert.match(quiet.stdout, /nothing changed: 6 photos, \d+ faces in the library\./);
    assert.ok(!quiet.stdout.includes('0 face(s) found'), quiet.stdout);
    assert.ok(quiet.stderr.includes(`Library: ${db}`), quiet.stderr);
  });

  test('query: filters as flags, faces with their photo paths, as text or JSON', async () => {
    const all = JSON.parse((await cli('query', '--json')).stdout) as FaceRecord[];
    assert.ok(all.length >= 8);
    const emotion = all[0]?.emotion as string;
    const filtered = JSON.parse((await cli('query', '--emotion', emotion, '--json')).stdout) as FaceRecord[];
    assert.deepEqual(
      filtered.map((f) => f.faceId),
      all.filter((f) => f.emotion === emotion).map((f) => f.faceId),
    );
    assert.ok(filtered.every((f) => f.path.startsWith(photos + path.sep)));
    const text = await cli('query', '--min-faces', '2', '--gender', 'female,male');
    assert.match(text.stdout, /Holiday photos\/sample1\.jpg\t\[\d+, \d+, \d+×\d+\]\t/);
    const bad = await facetsFromSources(['query', '--emotion', 'joyful', '--db', db]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--emotion: expected one of angry, disgust/);
  });

  test('stats: counts per attribute value that add up to the faces', async () => {
    const stats = JSON.parse((await cli('stats', '--json')).stdout) as {
      faces: number;
      photos: { ok: number };
      attributes: Record<string, { value: string; count: number }[]>;
    };
    assert.equal(stats.photos.ok, 6);
    for (const counts of Object.values(stats.attributes)) {
      assert.equal(
        counts.reduce((s, c) => s + c.count, 0),
        stats.faces,
      );
    }
    const text = await cli('stats');
    // Local time with its offset, not an ISO UTC stamp.
    assert.match(text.stdout, /^Last scan: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \(completed, finished /m);
    assert.match(text.stdout, /^Emotion\s+angry \d+ · disgust \d+ · fear \d+ · happy \d+/m);
    assert.match(text.stdout, /^Apparent gender\s+male \d+ · female \d+/m);
    assert.match(text.stdout, /^Apparent ethnicity\s+white \d+/m);
  });

  test('export: CSV with one row per face, or JSON', async () => {
    const faces = (JSON.parse((await cli('query', '--json')).stdout) as FaceRecord[]).length;
    const csv = (await cli('export', '--format', 'csv')).stdout.trim().split('\n');
    assert.match(csv[0] ?? '', /^path,faceId,photoId,faceIndex,takenAt,x,y,width,height,score/);
    // Gender and ethnicity are named for what they are: estimated from appearance.
    assert.match(
      csv[0] ?? '',
      /,apparentGender,apparentGenderConfidence,apparentEthnicity,apparentEthnicityConfidence,/,
    );
    assert.ok(!/(^|,)(gender|ethnicity)(,|$)/.test(csv[0] ?? ''), csv[0]);
    assert.equal(csv.length, faces + 1);
    const out = path.join(work, 'faces.json');
    await cli('export', '--format', 'json', '--output', out, '--min-confidence', '0');
    const json = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>[];
    // Without --format the file name says it; without either, the message says what to choose.
    const byName = path.join(work, 'faces.csv');
    await cli('export', '--output', byName);
    assert.equal(readFileSync(byName, 'utf8').trim().split('\n').length, faces + 1);
    const unsaid = await facetsFromSources(['export', '--db', db]);
    assert.equal(unsaid.code, 1);
    assert.match(unsaid.stderr, /choose what to export: --format csv/);
    const odd = await facetsFromSources(['export', '--output', path.join(work, 'faces.txt'), '--db', db]);
    assert.match(odd.stderr, /cannot tell the format from "faces\.txt": add --format csv or --format json/);
    assert.equal(json.length, faces);
    assert.ok(json.every((r) => 'apparentGender' in r && 'apparentEthnicity' in r && !('gender' in r)));
  });

  test('purge: only photos missing past the grace period, or all missing with --all', async () => {
    renameSync(path.join(photos, 'sample6.jpg'), path.join(work, 'sample6.jpg'));
    const scan = JSON.parse((await cli('scan', '--json')).stdout) as ScanSummary;
    assert.equal(scan.counts.missing, 1);
    assert.match((await cli('purge')).stdout, /^0 missing photo\(s\) purged/m);
    const purged = await cli('purge', '--all');
    assert.match(purged.stdout, /purged .*sample6\.jpg/);
    assert.match(purged.stdout, /^1 missing photo\(s\) purged/m);
  });
});

describe('facets scan --watch', { timeout: 180_000 }, () => {
  let work: string;

  before(() => (work = mkdtempSync(path.join(tmpdir(), 'facets-watch-'))));
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('picks up added, moved and deleted photos while it runs', async () => {
    const photos = path.join(work, 'photos');
    copyInto(photos, [sample(1), sample(2)]);
    const db = path.join(work, 'library.db');
    const child = spawnFacets(['scan', photos, '--watch', '--db', db]);
    const done = finished(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const rows = () => {
      const reader = new Database(db, { readonly: true, fileMustExist: true });
      try {
        return reader
          .prepare<[], { path: string; missing: number }>(
            'SELECT path, missing_since IS NOT NULL AS missing FROM photos ORDER BY path',
          )
          .all();
      } finally {
        reader.close();
      }
    };
    try {
      await until(
        () => /Watching 1 folder/.test(stderr),
        () => stderr,
      );
      copyFileSync(sample(3), path.join(photos, 'new.jpg'));
      mkdirSync(path.join(photos, 'album'));
      renameSync(path.join(photos, 'sample2.jpg'), path.join(photos, 'album', 'sample2.jpg'));
      unlinkSync(path.join(photos, 'sample1.jpg'));
      await until(
        () => {
          const r = rows();
          return (
            r.some((p) => p.path.endsWith('new.jpg') && !p.missing) &&
            r.some((p) => p.path.endsWith(`album${path.sep}sample2.jpg`) && !p.missing) &&
            r.some((p) => p.path.endsWith('sample1.jpg') && p.missing)
          );
        },
        () => JSON.stringify(rows()),
      );
      assert.equal(rows().length, 3, 'the moved photo kept its row');
    } finally {
      child.kill('SIGINT');
    }
    const exit = await done;
    assert.equal(exit.code, 0, exit.stderr);
  });
});

async function until(condition: () => boolean, describe: () => string, timeoutMs = 90_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      if (condition()) return;
    } catch {
      // the database may not exist yet
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out; last state: ${describe()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
