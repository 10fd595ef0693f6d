import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `facets` command exactly as a user would (bin/facets.js → dist/). */
export function facets(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [`${ROOT}/bin/facets.js`, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether tests can run the CLI as another user (root, with util-linux's setpriv). */
export function asNobodyMissing(): string | false {
  return process.getuid?.() === 0 && existsSync('/usr/bin/setpriv') ? false : 'needs root and setpriv';
}

/** The CLI run as the unprivileged user `nobody` (65534), for permission tests. */
export function facetsAsNobody(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(
    '/usr/bin/setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, `${ROOT}/bin/facets.js`, ...args],
    { encoding: 'utf8', env: options.env ?? process.env, timeout: options.timeoutMs ?? 200_000 },
  );
}
