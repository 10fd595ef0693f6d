/**
 * Scanning real photos with the real models into a real SQLite file: a messy library (every format,
 * broken files, links, a file deleted mid-scan), then the incremental cases: an unchanged rescan,
 * 1,000 photos rescanned, a moved folder, a changed file, a deleted file, pause/resume/cancel.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { ScanProgress } from '../../main/api/contract.js';
import { Library } from '../../main/library/library.js';
import type { ScanSummary } from '../../main/library/scanner.js';
import type { ScanCounts } from '../../main/library/repositories/scans.js';
import {
  type MessyLibrary,
  buildMessyLibrary,
  runningAsRoot,
  sample,
  writeTinyImages,
} from '../helpers/library-fixtures.js';

const TIMEOUT = 240_000;

function outcomesAddUp(c: ScanCounts): void {
  const outcomes = c.unchanged + c.added + c.updated + c.moved + c.duplicates + c.touched + c.failed + c.vanished;
  assert.equal(outcomes, c.files, `outcomes add up to the files found: ${JSON.stringify(c)}`);
}

interface PhotoRowLite {
  id: number;
  path: string;
  status: string;
  error: string | null;
  face_count: number;
  width: number | null;
  height: number | null;
  missing_since: string | null;
}

function photos(library: Library): Map<string, PhotoRowLite> {
  const rows = library.db.prepare<[], PhotoRowLite>('SELECT * FROM photos').all();
  return new Map(rows.map((r) => [r.path, r]));
}

describe('scanning a messy library', { timeout: TIMEOUT }, () => {
  let work: string;
  let messy: MessyLibrary;
  let library: Library;
  let first: ScanSummary;
  const events: ScanProgress[] = [];
  const changed: number[] = [];

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-scan-'));
    messy = await buildMessyLibrary(path.join(work, 'Photos'));
    library = new Library({ dbPath: path.join(work, 'library.db') });
    const fileCount = messy.ok.length + Object.keys(messy.errors).length + Object.keys(messy.unsupported).length + 1;
    let deleted = false;
    const scanner = library.scanner({
      onProgress: (p) => {
        events.push(p);
        // Once the walk has listed every file and analysis is under way, delete one not yet read.
        if (!deleted && p.total === fileCount && p.done > 0) {
          unlinkSync(path.join(messy.root, messy.vanishing));
          deleted = true;
        }
      },
      onChanged: (ids) => changed.push(...ids),
    });
    first = await scanner.scan([messy.root]);
    assert.ok(deleted, 'the vanishing file was deleted during the scan');
  });

  after(() => {
    library?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the scan completes and its counts add up', (t) => {
    assert.equal(first.state, 'completed', first.error ?? '');
    const c = first.counts;
    outcomesAddUp(c);
    const failures = Object.keys(messy.errors).length + Object.keys(messy.unsupported).length;
    assert.equal(c.failed, failures, 'every bad file failed, nothing else');
    assert.equal(c.vanished, 1, 'the file deleted during the scan');
    assert.equal(c.duplicates, messy.duplicates.length, 'duplicates were copied, not analysed');
    assert.equal(c.added, messy.ok.length - messy.duplicates.length);
    assert.equal(c.inferences, c.added, 'one inference per distinct new photo');
    assert.ok(c.faces >= 10, `faces found in the sample photos (${c.faces})`);
    if (runningAsRoot) {
      t.diagnostic(
        'running as root: the no-permission file is left out (root ignores chmod); a dangling link stands in',
      );
    }
  });

  test('every photo is analysed, and every bad file has a readable error recorded', () => {
    const rows = photos(library);
    for (const relative of messy.ok) {
      const row = rows.get(path.join(messy.root, relative));
      assert.equal(row?.status, 'ok', `${relative}: ${row?.error}`);
    }
    for (const [relative, pattern] of Object.entries(messy.errors)) {
      const row = rows.get(path.join(messy.root, relative));
      assert.equal(row?.status, 'error', relative);
      assert.match(row?.error ?? '', pattern, relative);
      assert.doesNotMatch(row?.error ?? '', /\n/, `${relative}: one line`);
    }
    for (const [relative, pattern] of Object.entries(messy.unsupported)) {
      const row = rows.get(path.join(messy.root, relative));
      assert.equal(row?.status, 'unsupported', relative);
      assert.match(row?.error ?? '', pattern, relative);
    }
    for (const relative of [...messy.skipped, messy.vanishing]) {
      assert.ok(!rows.has(path.join(messy.root, relative)), `${relative} is not in the library`);
    }
    assert.equal(rows.size, messy.ok.length + Object.keys(messy.errors).length + Object.keys(messy.unsupported).length);
    assert.equal(library.queries.errors({ offset: 0, limit: 500 }).total, first.counts.failed);
  });

  test('faces, thumbnails and EXIF: sample1 has its faces; the rotated photo is stored upright', () => {
    const rows = photos(library);
    const group = rows.get(path.join(messy.root, 'people/sample1.jpg'));
    assert.ok((group?.face_count ?? 0) >= 2, `faces in sample1: ${group?.face_count}`);
    const rotated = rows.get(path.join(messy.root, messy.rotated.file));
    assert.deepEqual([rotated?.width, rotated?.height], [messy.rotated.width, messy.rotated.height]);
    const original = rows.get(path.join(messy.root, 'people/sample3.jpg'));
    assert.equal(rotated?.face_count, original?.face_count, 'the same faces found upright');
    for (const row of rows.values()) {
      if (row.status !== 'ok') continue;
      const detail = library.queries.photoDetail(row.id);
      assert.ok(detail);
      const hash = library.catalog.photos.byId(row.id)?.content_hash as string;
      assert.ok(existsSync(library.thumbnails.photoFile(hash)), `thumbnail of ${row.path}`);
      for (const face of detail.faces) {
        assert.ok(existsSync(library.thumbnails.faceFile(hash, library.catalog.faces.byId(face.id)?.idx ?? -1)));
        assert.equal(face.predictions.length, 4, 'one prediction per attribute');
        assert.ok(face.ageGroup && face.gender && face.ethnicity && face.emotion);
      }
    }
  });

  test('progress: done grows to total, with a rate, an ETA and the error count; it ends idle', () => {
    assert.equal(events[0]?.state, 'scanning');
    const last = events.at(-1);
    assert.equal(last?.state, 'idle');
    assert.equal(last?.done, last?.total);
    assert.equal(last?.errors, first.counts.failed);
    for (let i = 1; i < events.length; i++) {
      assert.ok((events[i]?.done ?? 0) >= (events[i - 1]?.done ?? 0), 'done never goes back');
    }
    assert.ok(events.some((e) => e.photosPerSecond > 0 && e.etaSeconds !== null && e.currentFile));
    assert.ok(changed.length > 0, 'changed photos were announced');
  });

  test('a rescan of the unchanged library hashes, decodes and infers nothing', async () => {
    // The first rescan tries the files that failed once more (a failure may have been transient) and
    // they fail again; then they back off (repositories/retries.ts), so the next rescan reads nothing.
    const errorRows = library.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM photos WHERE status = 'error'`);
    const retried = await library.scanner().scan([messy.root]);
    outcomesAddUp(retried.counts);
    assert.ok(retried.counts.failed > 0 && retried.counts.failed <= (errorRows.get()?.n ?? 0));
    assert.equal(retried.counts.unchanged + retried.counts.failed, retried.counts.files);
    assert.equal(retried.counts.inferences, 0);
    const again = await library.scanner().scan([messy.root]);
    assert.equal(again.state, 'completed');
    const c = again.counts;
    outcomesAddUp(c);
    assert.equal(c.unchanged, c.files);
    assert.deepEqual([c.hashed, c.decoded, c.inferences, c.missing], [0, 0, 0, 0]);
  });

  test('a moved folder keeps every face and correction, without inference', async () => {
    const before = library.queries.photos({ folder: path.join(messy.root, 'people') }, { offset: 0, limit: 500 });
    const faces = before.items.flatMap((p) => library.queries.photoDetail(p.id)?.faces ?? []);
    assert.ok(faces.length >= 5);
    for (const face of faces) library.catalog.faces.correct(face.id, 'emotion', 'surprise', new Date().toISOString());
    renameSync(path.join(messy.root, 'people'), path.join(messy.root, 'moved people'));

    const rescan = await library.scanner().scan([messy.root]);
    outcomesAddUp(rescan.counts);
    assert.deepEqual([rescan.counts.decoded, rescan.counts.inferences, rescan.counts.missing], [0, 0, 0]);
    assert.equal(rescan.counts.moved, before.total);
    for (const photo of before.items) {
      const after = library.queries.photoDetail(photo.id);
      assert.equal(
        after?.path,
        photo.path.replace(`${path.sep}people${path.sep}`, `${path.sep}moved people${path.sep}`),
      );
      assert.equal(after?.status, 'ok');
    }
    for (const face of faces) {
      const after = library.queries.faceDetail(face.id);
      assert.deepEqual(
        after?.emotion,
        { value: 'surprise', confidence: 1, corrected: true, uncertain: false },
        `face ${face.id}`,
      );
      assert.deepEqual(after?.predictions, face.predictions);
    }
  });

  test('a changed file is re-analysed in place, and its corrections follow its faces', async () => {
    const file = path.join(messy.root, 'moved people', 'sample2.jpg');
    const id = library.catalog.photos.byPath(file)?.id as number;
    const [face] = library.queries.photoDetail(id)?.faces ?? [];
    assert.ok(face);
    writeFileSync(file, await sharp(sample(2)).jpeg({ quality: 92 }).toBuffer()); // same picture, new bytes
    const rescan = await library.scanner().scan([messy.root]);
    assert.equal(rescan.counts.updated, 1);
    assert.equal(rescan.counts.inferences, 1);
    const after = library.queries.photoDetail(id);
    assert.equal(after?.faces.length, 1);
    assert.equal(after?.faces[0]?.emotion?.value, 'surprise', 'the correction followed the re-detected face');
    assert.equal(after?.faces[0]?.emotion?.corrected, true);
  });

  test('a deleted file is marked missing, comes back when restored, and purge forgets it', async () => {
    const file = path.join(messy.root, 'moved people', 'sample4.jpg');
    const id = library.catalog.photos.byPath(file)?.id as number;
    const keep = path.join(work, 'kept.jpg');
    renameSync(file, keep);
    const gone = await library.scanner().scan([messy.root]);
    assert.equal(gone.counts.missing, 1);
    assert.equal(library.queries.photoDetail(id)?.status, 'missing');
    assert.ok(!library.queries.photos({}, { offset: 0, limit: 500 }).items.some((p) => p.id === id));

    renameSync(keep, file);
    const back = await library.scanner().scan([messy.root]);
    assert.equal(back.counts.restored, 1);
    assert.equal(back.counts.inferences, 0);
    assert.equal(library.queries.photoDetail(id)?.status, 'ok');

    renameSync(file, keep);
    await library.scanner().scan([messy.root]);
    assert.deepEqual(await library.purgeMissing(), [], 'kept during the grace period');
    assert.deepEqual(
      (await library.purgeMissing(0)).map((p) => p.id),
      [id],
    );
    assert.equal(library.queries.photoDetail(id), undefined);
  });
});

describe('a library of 1,000 small photos', { timeout: TIMEOUT }, () => {
  let work: string;
  let library: Library;
  let root: string;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'facets-thousand-'));
    root = path.join(work, 'Tiny photos');
    await writeTinyImages(root, 1000);
    library = new Library({ dbPath: path.join(work, 'library.db') });
  });

  after(() => {
    library?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('pause holds, resume continues, cancel stops between photos; the next scan finishes the rest', async () => {
    const states: string[] = [];
    const scanner = library.scanner({ onProgress: (p) => states.push(p.state) });
    const running = scanner.scan([root]);
    await waitFor(() => scanner.progress.done >= 20);
    scanner.pause();
    await sleep(1500); // photos in flight finish
    const held = scanner.progress.done;
    await sleep(1000);
    assert.equal(scanner.progress.done, held, 'nothing is processed while paused');
    assert.equal(scanner.progress.state, 'paused');
    scanner.resume();
    await waitFor(() => scanner.progress.done >= held + 20);
    scanner.cancel();
    const cancelled = await running;
    assert.equal(cancelled.state, 'cancelled');
    assert.ok(cancelled.counts.added < 1000);
    assert.ok(states.includes('paused') && states.includes('cancelling') && states.at(-1) === 'idle');
    assert.equal(cancelled.counts.missing, 0, 'an incomplete walk marks nothing missing');

    const rest = await library.scanner().scan([root]);
    assert.equal(rest.state, 'completed');
    assert.equal(rest.counts.added + rest.counts.unchanged, 1000);
    assert.equal(rest.counts.unchanged, cancelled.counts.added + cancelled.counts.failed);
    const count = library.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM photos').get()?.n;
    assert.equal(count, 1000);
  });

  test('rescanning the unchanged 1,000 takes under 2 s and runs zero inferences', async (t) => {
    const start = performance.now();
    const rescan = await library.scanner().scan([root]);
    const seconds = (performance.now() - start) / 1000;
    t.diagnostic(`rescan of 1,000 unchanged photos: ${seconds.toFixed(3)} s`);
    assert.equal(rescan.counts.files, 1000);
    assert.equal(rescan.counts.unchanged, 1000);
    assert.deepEqual([rescan.counts.hashed, rescan.counts.decoded, rescan.counts.inferences], [0, 0, 0]);
    assert.ok(seconds < 2, `${seconds.toFixed(2)} s`);
  });

  test('a copied folder is recognised by content: copies, not analyses', async () => {
    cpSync(root, path.join(work, 'backup'), { recursive: true });
    renameSync(path.join(work, 'backup'), path.join(root, 'backup'));
    const rescan = await library.scanner().scan([root]);
    assert.equal(rescan.counts.duplicates, 1000);
    assert.equal(rescan.counts.inferences, 0);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await sleep(20);
  }
}
