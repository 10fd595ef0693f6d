/**
 * Nothing of onnxruntime's telemetry is written (issue 12, defect 8): with a temporary HOME, loading a
 * model through the engine leaves HOME empty, while onnxruntime on its own writes its device id there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

// onnxruntime turns its telemetry off by itself when it sees a CI service's variable (its own list, read
// from the library's strings); a user's desktop has none, so both runs below go without them, or the control
// would fail on a CI machine and the check above it would mean nothing there.
const CI_VARIABLES = [
  'CI',
  'TF_BUILD',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'CODEBUILD_BUILD_ID',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER',
  'ORT_RUNNING_UNIT_TESTS',
];

function runWithHome(script: string): { files: string[]; stderr: string; status: number | null } {
  const home = mkdtempSync(path.join(tmpdir(), 'facets-home-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
    delete env['ORT_DISABLE_TELEMETRY'];
    for (const name of CI_VARIABLES) delete env[name];
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { files: filesUnder(home), stderr: r.stderr, status: r.status };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('loading models through the engine writes no onnxruntime device id', () => {
  const sessions = JSON.stringify(path.join(ROOT, 'main/engine/sessions.ts'));
  const engine = runWithHome(
    `const { ModelStore } = await import(${sessions}); await new ModelStore().load('pnet'); console.log('loaded');`,
  );
  assert.equal(engine.status, 0, engine.stderr);
  assert.deepEqual(engine.files, []);

  // The control: onnxruntime alone, without Facets' setting, does write it (so the check above means something).
  const model = JSON.stringify(path.join(ROOT, 'models/generated/pnet.onnx'));
  const bare = runWithHome(
    `const { default: ort } = await import('onnxruntime-node'); await ort.InferenceSession.create(${model});`,
  );
  assert.equal(bare.status, 0, bare.stderr);
  assert.ok(
    bare.files.some((f) => f.endsWith(path.join('.onnxruntime', 'deviceid'))),
    `onnxruntime wrote ${JSON.stringify(bare.files)}`,
  );
});
