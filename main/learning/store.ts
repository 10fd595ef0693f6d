/**
 * The heads folder (models/heads/ by default; git-ignored): manifest.json and the ONNX files it names.
 * Installing heads keeps the ones they replace (newest first in `history`, files kept), so
 * `facets train-heads --revert` can put them back.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type HeadsEntry,
  type HeadsManifest,
  headsDir,
  readHeadsManifest,
  shippedHeadsDir,
} from '../engine/attributes/heads.js';
import type { ModelConfig, Params } from './model.js';
import { decodeHeadsOnnx } from './onnx.js';

/** Earlier heads kept for revert. */
const HISTORY = 5;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeManifest(dir: string, manifest: HeadsManifest): void {
  const file = path.join(dir, 'manifest.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Writes the ONNX file (named by its hash) and makes `entry` the active heads; the previous ones go to history. */
export function installHeads(
  bytes: Uint8Array,
  entry: Omit<HeadsEntry, 'file' | 'sha256'>,
  dir: string = headsDir(),
  options: { replace?: boolean } = {},
): HeadsEntry {
  mkdirSync(dir, { recursive: true });
  const sha256 = sha256Hex(bytes);
  const file = `heads-${sha256.slice(0, 16)}.onnx`;
  writeFileSync(path.join(dir, file), bytes);
  const full: HeadsEntry = { file, sha256, ...entry };
  const manifest: HeadsManifest = readHeadsManifest(dir) ?? { version: 1, active: null, history: [] };
  const history = manifest.active ? [manifest.active, ...manifest.history] : manifest.history;
  const kept = options.replace ? [] : history.filter((h) => h.sha256 !== sha256).slice(0, HISTORY);
  const dropped = history.filter((h) => !kept.includes(h) && h.sha256 !== sha256);
  writeManifest(dir, { version: 1, active: full, history: kept });
  for (const h of dropped) {
    if (h.file !== file && !kept.some((k) => k.file === h.file)) rmSync(path.join(dir, h.file), { force: true });
  }
  return full;
}

/**
 * Restores the previous heads; the reverted-from ones are dropped. Returns the now-active entry. The
 * user's first heads revert to the shipped ones ([Note: heads in use]): the user's folder is left with
 * none active.
 */
export function revertHeads(dir: string = headsDir()): HeadsEntry {
  const manifest = readHeadsManifest(dir);
  const [previous, ...rest] = manifest?.history ?? [];
  const shipped = shippedHeadsDir();
  const fallback = shipped && shipped !== dir ? readHeadsManifest(shipped)?.active : undefined;
  if (manifest?.active && !previous && fallback) {
    writeManifest(dir, { version: 1, active: null, history: [] });
    rmSync(path.join(dir, manifest.active.file), { force: true });
    return fallback;
  }
  if (!manifest || !previous) throw new Error(`no earlier heads to revert to in ${dir}`);
  if (!existsSync(path.join(dir, previous.file)))
    throw new Error(`the earlier heads' file ${previous.file} is missing`);
  const current = manifest.active;
  writeManifest(dir, { version: 1, active: previous, history: rest });
  if (current && current.file !== previous.file && !rest.some((h) => h.file === current.file)) {
    rmSync(path.join(dir, current.file), { force: true });
  }
  return previous;
}

/** Parameters of installed heads, read back from their ONNX file (for fine-tuning). */
export function readHeadsParams(bytes: Uint8Array): { config: ModelConfig; params: Params } {
  return decodeHeadsOnnx(bytes);
}

/** The active heads' ONNX bytes. */
export function activeHeadsBytes(dir: string = headsDir()): { entry: HeadsEntry; bytes: Uint8Array } {
  const manifest = readHeadsManifest(dir);
  if (!manifest?.active) throw new Error(`no heads in ${dir}: train them first with \`facets train-heads\``);
  return { entry: manifest.active, bytes: readFileSync(path.join(dir, manifest.active.file)) };
}
