/**
 * The import boundaries of eslint.config.js bite (issue 12): each forbidden import below is reported
 * by ESLint with the project's own config, and the allowed ones are not. And SQL stays in the
 * repositories.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../helpers/cli.js';

const eslint = new ESLint({ cwd: ROOT });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('the engine imports neither the library nor the API', async () => {
  for (const code of [
    "import { Library } from '../library/library.js';\nexport const x = Library;\n",
    "import { CHANNELS } from '../../api/contract.js';\nexport const x = CHANNELS;\n",
    "import { app } from 'electron';\nexport const x = app;\n",
  ]) {
    assert.equal((await restricted('main/engine/detection/probe.ts', code)).length, 1, code);
  }
  assert.deepEqual(
    await restricted(
      'main/engine/detection/probe.ts',
      "import { clamp } from '../image/resample.js';\nexport const x = clamp;\n",
    ),
    [],
  );
});

test('the renderer reaches the back end only through its API layer', async () => {
  const forbidden = [
    "import { AGE_GROUPS } from '../../../main/engine/attributes/labels.js';\nexport const x = AGE_GROUPS;\n",
    "import type { Filter } from '../../../../main/api/contract.js';\nexport type X = Filter;\n",
    "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n",
  ];
  for (const code of forbidden) {
    assert.equal((await restricted('renderer/src/features/probe.ts', code)).length, 1, code);
  }
  // The API layer itself is where the contract comes in.
  assert.deepEqual(await restricted('renderer/src/lib/api/probe.ts', forbidden[1] as string), []);
  assert.deepEqual(
    await restricted(
      'renderer/src/features/probe.ts',
      "import { AGE_GROUPS } from '../lib/api/index.js';\nexport const x = AGE_GROUPS;\n",
    ),
    [],
  );
});

test('only the IPC module touches ipcMain', async () => {
  const code = "import { ipcMain } from 'electron';\nexport const x = ipcMain;\n";
  assert.equal((await restricted('main/electron/main.ts', code)).length, 1);
  assert.equal((await restricted('main/library/backend.ts', code)).length, 1);
  assert.deepEqual(await restricted('main/electron/ipc.ts', code), []);
  assert.deepEqual(
    await restricted('main/electron/main.ts', "import { app } from 'electron';\nexport const x = app;\n"),
    [],
  );
});

test('what the app ships imports no research or model-building code; the CLI may', async () => {
  const forbidden: [string, string][] = [
    [
      'main/library/probe.ts',
      "import { runPipeline } from '../../research/heads/pipeline.js';\nexport const x = runPipeline;\n",
    ],
    [
      'main/learning/probe.ts',
      "import { buildModels } from '../../models/build/index.js';\nexport const x = buildModels;\n",
    ],
    [
      'main/engine/image/probe.ts',
      "import { loadEvalSet } from '../../../research/eval/datasets.js';\nexport const x = loadEvalSet;\n",
    ],
    [
      'main/electron/ipc.ts',
      "import { trainBinary } from '../../research/heads/svm.js';\nexport const x = trainBinary;\n",
    ],
    [
      'main/people/probe.ts',
      "import type { AttributeReport } from '../../research/eval/evaluate.js';\nexport type X = AttributeReport;\n",
    ],
    [
      'renderer/src/features/probe.ts',
      "import { trainBinary } from '../../../research/heads/svm.js';\nexport const x = trainBinary;\n",
    ],
  ];
  for (const [file, code] of forbidden) assert.equal((await restricted(file, code)).length, 1, `${file}: ${code}`);
  // The research commands of the CLI (eval, train-heads, models build) import it.
  assert.deepEqual(
    await restricted(
      'main/cli/commands/probe.ts',
      "import { runPipeline } from '../../../research/heads/pipeline.js';\nexport const x = runPipeline;\n",
    ),
    [],
  );
  // Research code uses the app's (the pipeline trains with the app's heads trainer).
  assert.deepEqual(
    await restricted(
      'research/heads/probe.ts',
      "import { trainHeads } from '../../main/learning/train.js';\nexport const x = trainHeads;\n",
    ),
    [],
  );
});

test('the project itself is within its boundaries', async () => {
  const results = await eslint.lintFiles(['main', 'research', 'renderer/src', 'preload']);
  const broken = results.flatMap((r) =>
    r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}: ${m.message}`),
  );
  assert.deepEqual(broken, []);
});

test('SQL lives in main/library/repositories/ (and the numbered migrations)', () => {
  const allowed = (file: string) =>
    file.startsWith('main/library/repositories/') || file === 'main/library/migrations.ts';
  const statement =
    /[`'"]\s*(SELECT|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|INDEX)|WITH\s+\w+\s+AS)\b/;
  const prepared = /\b(db|Db|database)\s*\.\s*(prepare|exec)\s*[<(]/;
  const offending: string[] = [];
  const files = readdirSync(path.join(ROOT, 'main'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  assert.ok(files.includes('main/library/query.ts'));
  for (const file of files.filter((f) => !allowed(f))) {
    readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (statement.test(line) || prepared.test(line)) offending.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(offending, []);
});
