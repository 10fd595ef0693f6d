#!/usr/bin/env node
// `npm run setup`: a clean install, then the build (TypeScript, renderer, models).
//
// onnxruntime-node's install script downloads CUDA libraries from outside the npm registry; the CPU,
// DirectML and CoreML providers ship inside the package, so the download is skipped here. The skip is
// passed as an environment variable for this install only: as an `.npmrc` key npm warns about it on
// every `npx` call. GPU users opt in as the README's "GPU" section says.
import { spawnSync } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' };

for (const args of [['ci'], ['run', 'build']]) {
  const run = spawnSync(npm, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
