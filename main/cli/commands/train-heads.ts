import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type HeadTask, headsDir, readHeadsManifest } from '../../engine/attributes/heads.js';
import { ModelStore } from '../../engine/sessions.js';
import { DEFAULT_FINE_TUNE } from '../../learning/corrections.js';
import type { FlipMode } from '../../../research/heads/dataset.js';
import { FRAMINGS, type FramingName, isFramingName } from '../../../research/heads/embeddings.js';
import { fineTuneLibrary, fineTuneMeasurements } from '../../learning/learn.js';
import {
  DEFAULT_PIPELINE,
  type ResultRow,
  SHIPPED_RECIPE,
  shippedRecipeBlockers,
  recalibrate,
  runPipeline,
} from '../../../research/heads/pipeline.js';
import { simulateCorrections } from '../../../research/heads/simulate.js';
import { revertHeads } from '../../learning/store.js';
import type { Weighting } from '../../learning/model.js';
import { DEFAULT_TRAIN } from '../../learning/train.js';
import { defaultDbPath } from '../../library/paths.js';
import { packageRoot } from '../../paths.js';
import type { Command } from '../command.js';

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${(v * 100).toFixed(1)}%`);

/** The results table (markdown): one row per candidate, the attributes' dev metrics as columns. */
export function resultsTable(rows: readonly ResultRow[]): string {
  const header =
    '| candidate | ethnicity acc. | ethnicity worst class | age group acc. (9) | age MAE (y) | gender acc. | emotion acc. | train s |';
  const lines = [header, '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const s = r.scores;
    const worst = s.ethnicity?.perClassRecall
      ? Object.entries(s.ethnicity.perClassRecall).reduce((a, b) => (b[1] < a[1] ? b : a))
      : undefined;
    lines.push(
      `| ${r.candidate} | ${pct(s.ethnicity?.accuracy)} | ${worst ? `${pct(worst[1])} (${worst[0]})` : '-'} | ${pct(s.age?.accuracy)} | ` +
        `${s.age?.mae === undefined ? '-' : s.age.mae.toFixed(2)} | ${pct(s.gender?.accuracy)} | ${pct(s.emotion?.accuracy)} | ` +
        `${r.seconds === undefined ? '-' : r.seconds.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

/** Every candidate's accuracy on every dev set (a task scored on several sets), worst and mean beside. */
export function perSetTable(rows: readonly ResultRow[]): string {
  const lines = ['| candidate | attribute | per dev set | worst | mean |', '|---|---|---|---|---|'];
  for (const r of rows) {
    for (const [task, score] of Object.entries(r.scores)) {
      if (!score?.perSet) continue;
      const sets = Object.entries(score.perSet)
        .map(([set, s]) => `${set} ${pct(s.accuracy)}`)
        .join(', ');
      lines.push(`| ${r.candidate} | ${task} | ${sets} | ${pct(score.accuracy)} | ${pct(score.mean)} |`);
    }
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

/** The committed shipped heads' folder in the source tree (not FACETS_MODELS_DIR's). */
function shippedDir(): string {
  return path.join(packageRoot(), 'models', 'shipped');
}

/**
 * `--recipe shipped`: trains the committed heads from ../shared and installs them in models/shipped;
 * with --check, only rebuilds the ONNX file and compares it with the committed one (no dev sets).
 */
async function shippedRecipe(
  models: ModelStore,
  io: {
    check: boolean;
    json: boolean;
    out: (line: string) => void;
    log: (line: string) => void;
    progress: (label: string) => (done: number, total: number) => void;
  },
): Promise<number> {
  const dir = shippedDir();
  const committed = readHeadsManifest(dir)?.active;
  const blockers = await shippedRecipeBlockers(models, committed);
  if (io.check && blockers.length > 0) {
    // Hours of work that cannot end in the committed bytes: say so at once.
    const reason = `cannot rebuild the committed heads byte for byte on this machine: ${blockers.join('; ')}`;
    if (io.json)
      io.out(JSON.stringify({ committed: committed?.sha256 ?? null, rebuilt: null, same: false, reason }, null, 2));
    else io.out(reason);
    return 2;
  }
  for (const b of blockers) io.log(`warning: the heads trained here will differ from the committed ones: ${b}`);
  for (const set of [...SHIPPED_RECIPE.trainSets, ...(io.check ? [] : SHIPPED_RECIPE.devSets)]) {
    if (!existsSync(set)) throw new Error(`the shipped recipe needs ${set} (research data in ../shared)`);
  }
  const result = await runPipeline(models, {
    ...SHIPPED_RECIPE,
    ...(io.check ? { devSets: [], install: false } : {}),
    dir,
    log: io.log,
    progress: io.progress,
  });
  if (io.check) {
    const sha256 = result.bytesSha256 ?? '';
    const same = committed?.sha256 === sha256;
    if (io.json) io.out(JSON.stringify({ committed: committed?.sha256 ?? null, rebuilt: sha256, same }, null, 2));
    else
      io.out(
        same
          ? `rebuilt ${committed?.file}: identical (sha256 ${sha256})`
          : `rebuilt sha256 ${sha256} differs from the committed ${committed?.sha256 ?? '(none)'}`,
      );
    return same ? 0 : 1;
  }
  if (io.json) io.out(JSON.stringify(result, null, 2));
  else {
    io.out(resultsTable(result.rows));
    io.out(perSetTable(result.rows));
    if (result.installed)
      io.out(`installed ${path.join(dir, result.installed.file)} (sha256 ${result.installed.sha256})`);
  }
  return 0;
}

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${value}"`);
  return n;
}

export const trainHeadsCommand: Command = {
  name: 'train-heads',
  usage: 'train-heads [--from-corrections [--db file] | --revert | --simulate-corrections] [options]',
  summary: "train the paper's classifier: attribute heads on face embeddings (ONNX in models/heads/)",
  help: [
    'Without a mode: embeds the training sets (cached in ~/.cache/facets), trains multi-task heads with dynamic',
    'and with equal task weights and an SVM-RBF baseline, scores them on the dev sets next to the pretrained',
    'networks, prints the results table, and installs the better heads with a manifest entry. The engine uses',
    'the heads for an attribute only where their recorded dev accuracy beats the default network.',
    '--train <dirs>       comma-separated labelled sets (default ../shared/data/train/{utkface,fer2013}-train)',
    '--dev <dirs>         comma-separated dev sets (default ../shared/data/eval/{utkface,fer2013}-dev)',
    '--embedding <nets>   networks whose features are concatenated: facenet128 (default), faceres, gear,',
    '                     faceapi-age-gender, faceapi-expression (e.g. facenet128,faceres)',
    '--framing <f>        crop (the crop is the face; default), fairface (FairFace crops), align-arcface,',
    '                     align-utkface, align-fairface (MTCNN + alignment to that template)',
    '--dev-framing <f>    framing of the dev sets (default: --framing): align-fairface scores heads trained',
    '                     on fairface crops on faces framed as the engine frames them',
    '--train-framing s=f  a training set framed otherwise than --framing, by folder name (comma-separated):',
    '                     utkface-train=align-fairface frames UTKFace crops as the engine frames faces',
    '--train-views <f>    more views of every training face: each training set also embedded under these',
    '                     framings (comma-separated), each view a sample of its own',
    '--no-runtime-flip    the engine embeds the face alone, not also its mirror image (half the cost)',
    '--recipe shipped     the heads committed in models/shipped (FairFace only, CC BY 4.0): retrain them from',
    '                     ../shared and install them there; with --check, rebuild the ONNX file and compare it',
    '                     with the committed one byte for byte; with --calibrate, re-fit only its calibration',
    '--flip <m>           augment (default: mirrored faces in training, averaged at run time), average, none',
    '--hidden <n>         shared hidden layer width, 0 = none (default 128)',
    '--epochs <n>         (default 30)   --lr <x> (default 0.001)   --batch <n> (default 128)',
    '--weighting <w>      dynamic (default), equal, dynamic-inverse, dynamic-naive',
    '--balance <b>        class balancing exponent 0..1 (default 1: inverse class frequency)',
    '--max-per-set <n>    evenly spaced subsample of larger training sets (default 30000: all of FER2013)',
    '--no-svm             skip the SVM baseline; --svm-limit <n> samples per task (default 6000); --svm-c <C> (default 1)',
    '--no-compare         train only the requested weighting',
    '--seed <n>           (default 1): same seed, same cached embeddings → same ONNX bytes',
    '--dry-run            report only, install nothing',
    '--json               machine-readable output',
    '--from-corrections   fine-tune the installed heads on the corrections in the library (--db), with the',
    "                     corrected faces' other attributes as confirmations and uncorrected faces as anchors;",
    '                     an attribute keeps its fine-tune only if it does better on held-out faces (--force: all)',
    '--min-corrections n  (default 200, from the learning curve in models/README.md)   --holdout <f> (default 0.25)',
    '--revert             restore the previous heads',
    '--simulate-corrections  learning curve: simulated users correcting the dev set (research data);',
    "                     --focus ethnicity=black:0.5 makes that label half of each user's faces;",
    '                     --sizes 50,100,200 the numbers of corrections',
  ].join('\n'),
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        train: { type: 'string' },
        dev: { type: 'string' },
        embedding: { type: 'string' },
        framing: { type: 'string' },
        flip: { type: 'string' },
        hidden: { type: 'string' },
        epochs: { type: 'string' },
        lr: { type: 'string' },
        batch: { type: 'string' },
        weighting: { type: 'string' },
        balance: { type: 'string' },
        'max-per-set': { type: 'string' },
        'no-svm': { type: 'boolean', default: false },
        'svm-limit': { type: 'string' },
        'svm-c': { type: 'string' },
        'no-compare': { type: 'boolean', default: false },
        seed: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'from-corrections': { type: 'boolean', default: false },
        db: { type: 'string' },
        'min-corrections': { type: 'string' },
        holdout: { type: 'string' },
        force: { type: 'boolean', default: false },
        revert: { type: 'boolean', default: false },
        'simulate-corrections': { type: 'boolean', default: false },
        focus: { type: 'string' },
        sizes: { type: 'string' },
        recipe: { type: 'string' },
        check: { type: 'boolean', default: false },
        calibrate: { type: 'boolean', default: false },
        'dev-framing': { type: 'string' },
        'no-runtime-flip': { type: 'boolean', default: false },
        'train-framing': { type: 'string' },
        'train-views': { type: 'string' },
      },
    });
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const tty = process.stderr.isTTY;
    // Progress from the first second: a terminal gets one updating line; a log or pipe gets a plain line
    // at the start of each stage, at most every 5 s after, and at its end.
    const progress = (label: string) => {
      let last = 0;
      return (done: number, total: number) => {
        if (tty) {
          process.stderr.write(`\r${label} ${done}/${total}${done === total ? '\n' : ''}`);
          return;
        }
        const t = performance.now();
        if (last === 0 || done === total || t - last >= 5000) {
          last = t;
          process.stderr.write(`${label} ${done}/${total}\n`);
        }
      };
    };
    const dir = headsDir();
    if (!values.revert) log('train-heads: loading the networks and reading the data sets…');

    if (values.revert) {
      const entry = revertHeads(dir);
      out(`restored heads ${entry.file} (${entry.origin}, ${entry.createdAt})`);
      return 0;
    }

    const models = new ModelStore();
    try {
      if (values['from-corrections']) {
        const dbFile = values.db ? path.resolve(values.db) : defaultDbPath();
        const embedding = progress('embedding faces');
        const { record, result, skipped, installed } = await fineTuneLibrary(models, dbFile, {
          dir,
          minCorrections: number('min-corrections', values['min-corrections'], DEFAULT_FINE_TUNE.minCorrections),
          holdout: number('holdout', values.holdout, DEFAULT_FINE_TUNE.holdout),
          seed: number('seed', values.seed, DEFAULT_FINE_TUNE.seed),
          acceptAll: values.force,
          dryRun: values['dry-run'],
          progress: (p) => {
            if (p.stage === 'embedding' && p.total > 0) embedding(p.done, p.total);
          },
        });
        if (skipped.length) log(`skipped ${skipped.length} faces: ${skipped[0]?.reason}`);
        const changed = Object.values(result.accepted).some(Boolean);
        const summary = {
          corrections: record.corrections,
          confirmations: record.confirmations,
          faces: {
            fineTuned: result.trained,
            heldOut: result.heldOut,
            anchors: result.anchors,
            library: record.faces.library,
          },
          ...fineTuneMeasurements(result),
        };
        if (values.json) out(JSON.stringify({ ...summary, installed: installed?.file ?? null }, null, 2));
        else {
          out(
            `${summary.corrections} corrections (+${summary.confirmations} confirmations) on ${result.trained + result.heldOut} ` +
              `faces, ${result.anchors} uncorrected faces as anchors: fine-tuned on ${result.trained} corrected faces, ` +
              `measured on ${result.heldOut} held out`,
          );
          out(`held-out corrections: before ${pct(result.before.accuracy)} → after ${pct(result.after.accuracy)}`);
          for (const [task, a] of Object.entries(result.after.perAttribute)) {
            const e = result.estimate[task as HeadTask];
            out(
              `  ${task}: ${pct(result.before.perAttribute[task as HeadTask]?.accuracy)} → ${pct(a.accuracy)} (${a.count}); ` +
                `held-out estimate ${pct(e?.before)} → ${pct(e?.after)}: ${result.accepted[task as HeadTask] ? 'fine-tune kept' : 'base kept'}`,
            );
          }
          out(
            installed
              ? `installed ${installed.file}; \`facets train-heads --revert\` restores the previous heads`
              : changed
                ? 'not installed (--dry-run)'
                : 'not installed: no attribute did better on the held-out faces (--force keeps every fine-tuned attribute)',
          );
        }
        return 0;
      }

      if (values['simulate-corrections']) {
        let focus: { task: HeadTask; label: string; share: number } | undefined;
        if (values.focus) {
          const m = /^(age|gender|ethnicity|emotion)=([\w+-]+):([\d.]+)$/.exec(values.focus);
          if (!m) throw new Error('--focus takes attribute=label:share, e.g. ethnicity=black:0.5');
          focus = { task: m[1] as HeadTask, label: m[2] as string, share: Number(m[3]) };
        }
        const curve = await simulateCorrections(models, {
          log,
          seed: number('seed', values.seed, 1),
          ...(focus ? { focus } : {}),
          ...(values.sizes ? { sizes: values.sizes.split(',').map((v) => number('sizes', v, 0)) } : {}),
        });
        out(values.json ? JSON.stringify(curve, null, 2) : curve.table);
        return 0;
      }

      if (values.recipe !== undefined) {
        if (values.recipe !== 'shipped') throw new Error('--recipe takes "shipped"');
        if (values.calibrate) {
          const calibration = await recalibrate(models, { ...SHIPPED_RECIPE, log, progress }, shippedDir());
          if (values.json) out(JSON.stringify(calibration, null, 2));
          return 0;
        }
        return await shippedRecipe(models, { check: values.check, json: values.json, out, log, progress });
      }
      const networks = values.embedding ? values.embedding.split(',') : DEFAULT_PIPELINE.networks;
      const framing = values.framing ?? DEFAULT_PIPELINE.framing;
      if (!isFramingName(framing)) throw new Error(`--framing must be one of ${Object.keys(FRAMINGS).join(', ')}`);
      const devFraming = values['dev-framing'];
      if (devFraming !== undefined && !isFramingName(devFraming)) {
        throw new Error(`--dev-framing must be one of ${Object.keys(FRAMINGS).join(', ')}`);
      }
      const trainFramings: Record<string, FramingName> = {};
      for (const pair of values['train-framing']?.split(',') ?? []) {
        const [set, f] = pair.split('=');
        if (!set || f === undefined || !isFramingName(f)) {
          throw new Error(
            `--train-framing takes set=framing pairs, framing one of ${Object.keys(FRAMINGS).join(', ')}`,
          );
        }
        trainFramings[set] = f;
      }
      const trainViews = values['train-views']?.split(',') ?? [];
      for (const v of trainViews) {
        if (!isFramingName(v)) throw new Error(`--train-views takes framings: ${Object.keys(FRAMINGS).join(', ')}`);
      }
      const flip = (values.flip ?? DEFAULT_PIPELINE.flip) as FlipMode;
      if (!['augment', 'average', 'none'].includes(flip)) throw new Error('--flip must be augment, average or none');
      const weighting = (values.weighting ?? DEFAULT_TRAIN.weighting) as Weighting;
      if (!['dynamic', 'equal', 'dynamic-inverse', 'dynamic-naive'].includes(weighting)) {
        throw new Error('--weighting must be dynamic, equal, dynamic-inverse or dynamic-naive');
      }
      const started = performance.now();
      const result = await runPipeline(models, {
        ...DEFAULT_PIPELINE,
        ...(values.train ? { trainSets: values.train.split(',').map((p) => path.resolve(p)) } : {}),
        ...(values.dev ? { devSets: values.dev.split(',').map((p) => path.resolve(p)) } : {}),
        networks,
        framing: framing as FramingName,
        ...(devFraming ? { devFraming } : {}),
        trainFramings,
        ...(trainViews.length ? { trainViews: trainViews as FramingName[] } : {}),
        flip,
        ...(values['no-runtime-flip'] ? { runtimeFlip: false } : {}),
        train: {
          ...DEFAULT_TRAIN,
          hidden: number('hidden', values.hidden, DEFAULT_TRAIN.hidden),
          epochs: number('epochs', values.epochs, DEFAULT_TRAIN.epochs),
          lr: number('lr', values.lr, DEFAULT_TRAIN.lr),
          batch: number('batch', values.batch, DEFAULT_TRAIN.batch),
          balance: number('balance', values.balance, DEFAULT_TRAIN.balance),
          seed: number('seed', values.seed, DEFAULT_TRAIN.seed),
          flipAugment: flip === 'augment',
          weighting,
        },
        compare: !values['no-compare'],
        maxPerSet: number('max-per-set', values['max-per-set'], DEFAULT_PIPELINE.maxPerSet),
        svm: !values['no-svm'],
        svmLimit: number('svm-limit', values['svm-limit'], DEFAULT_PIPELINE.svmLimit),
        svmC: number('svm-c', values['svm-c'], DEFAULT_PIPELINE.svmC),
        install: !values['dry-run'],
        dir,
        log,
        progress,
      });
      const seconds = (performance.now() - started) / 1000;
      if (values.json) {
        out(JSON.stringify({ ...result, seconds }, null, 2));
        return 0;
      }
      out(resultsTable(result.rows));
      out('');
      out(perSetTable(result.rows));
      for (const [task, d] of Object.entries(result.entry.dev))
        out(`${task}: served by ${d.choice} (worst of dev sets ${d.set})`);
      out(
        `timings: ${Object.entries(result.timings)
          .map(([k, v]) => `${k} ${v.toFixed(0)} s`)
          .join('; ')}; total ${seconds.toFixed(0)} s`,
      );
      if (result.installed) {
        out(`installed ${path.join(dir, result.installed.file)} (sha256 ${result.installed.sha256.slice(0, 16)}…)`);
        const manifest = readHeadsManifest(dir);
        if (manifest?.history.length) out(`\`facets train-heads --revert\` restores ${manifest.history[0]?.file}`);
      }
      return 0;
    } finally {
      await models.release();
    }
  },
};
