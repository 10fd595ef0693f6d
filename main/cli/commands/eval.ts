import path from 'node:path';
import { parseArgs } from 'node:util';
import { FaceAnalyzer } from '../../engine/analyzer.js';
import { type AttributeSample, evenlySpaced, loadEvalSet } from '../../../research/eval/datasets.js';
import { evaluatePeople } from '../../../research/eval/people.js';
import type { PeopleMetrics } from '../../people/metrics.js';
import { mosaicSet, turnedSet } from '../../../research/eval/transforms.js';
import { type CompareRow, acrossSets, compareCandidates } from '../../../research/eval/compare.js';
import { type AttributeReport, evaluateAttributes, evaluateDetection } from '../../../research/eval/evaluate.js';
import { analyzerFlags, analyzerOptionsFrom } from '../analyzer-flags.js';
import type { Command } from '../command.js';
import { figure } from '../format.js';

/** A people set: identities clustered (research/eval/people.ts). */
async function evalPeople(
  samples: AttributeSample[],
  folder: string,
  options: { json: boolean; sweep: boolean },
  flags: Parameters<typeof analyzerOptionsFrom>[0],
): Promise<number> {
  const analyzer = new FaceAnalyzer(undefined, {
    ...analyzerOptionsFrom(flags),
    identity: true,
    assignment: { age: null, gender: null, ethnicity: null, emotion: null },
  });
  const tty = process.stderr.isTTY;
  const people = await evaluatePeople(analyzer, samples, {
    sweep: options.sweep,
    progress: (done, total) => {
      if (tty) process.stderr.write(`\rpeople ${done}/${total}${done === total ? '\n' : ''}`);
    },
  });
  await analyzer.models.release();
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ set: folder, kind: 'people', people }, null, 2)}\n`);
    return 0;
  }
  const line = (m: PeopleMetrics) =>
    `BCubed F ${m.bcubedF.toFixed(3)} (P ${m.bcubedPrecision.toFixed(3)}, R ${m.bcubedRecall.toFixed(3)}); ` +
    `pairwise P ${m.pairwisePrecision.toFixed(3)}, R ${m.pairwiseRecall.toFixed(3)}; ` +
    `${m.clusters} clusters for ${m.identities} identities, ${m.unassigned} faces unassigned`;
  process.stdout.write(
    `${folder}: ${people.images} photos, no face ${people.noFace}, too small or blurred ${people.lowQuality}, ` +
      `${people.msPerImage.toFixed(0)} ms/photo\n` +
      `  incremental (${people.algorithm} ${people.threshold}): ${line(people)}\n` +
      `  re-cluster (${people.recluster.algorithm} ${people.recluster.threshold}): ${line(people.recluster)}\n`,
  );
  for (const r of people.sweep ?? []) {
    process.stdout.write(`  ${r.algorithm.padEnd(10)} ${r.threshold.toFixed(2)}  ${line(r)}\n`);
  }
  return 0;
}

/** A share as a percentage; "n/a" where it does not apply (no samples: NaN, or "of 0"). */
const pct = (v: number | undefined, of?: number) => (of === 0 ? 'n/a' : figure(v, (x) => `${(x * 100).toFixed(1)}%`));

export const evalCommand: Command = {
  name: 'eval',
  usage: 'eval <folder> [more folders with --compare] [--json] [--mode crop|detect|both] [--limit N]',
  summary: 'measure detection or attribute accuracy on a labelled set (labels.csv or annotations.json)',
  help: [
    'Detection sets: recall, precision and AP at IoU 0.4 and 0.5, false positives per image, pose subsets.',
    'Attribute sets: age MAE and group accuracy, ethnicity/emotion accuracy, per-class recall, confusion,',
    'gender accuracy. Face-crop sets are scored as "crop" (the image is the face) and "detect" (MTCNN first).',
    '--mode <m>          crop, detect or both (default both)',
    '--limit <n>         only n samples (a whole number ≥ 1), evenly spaced through the set (quick checks)',
    '--pick <p>          detect mode: the face that stands for the label, largest (default) or central',
    '--turn <deg>        detection sets: turn every photo clockwise by deg first (faces rolled further',
    '                    than the set has; boxes turned with them)',
    '--mosaic <n>        detection sets: tile the photos n × n into one photo each (small faces in large',
    '                    photos; recall by face size shows what the analysis size costs)',
    "People sets (labels.csv with a person column): clustering of the photos' centre faces — BCubed and",
    'pairwise precision/recall (JSON: people), incremental as scans do and by a full re-cluster; --compare',
    '                    adds every clustering algorithm × threshold.',
    '--compare           attribute sets: tabulate every candidate network × crop recipe, and ensembles',
    '                    (--mode crop: recipes relative to the whole image; otherwise to the detected face);',
    '                    with several sets (eval a b c --compare), every candidate on each set, and per',
    "                    attribute the choice that maximises the worst set's accuracy (the mean beside it)",
    ...analyzerFlags.help,
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        mode: { type: 'string', default: 'both' },
        limit: { type: 'string' },
        pick: { type: 'string', default: 'largest' },
        compare: { type: 'boolean', default: false },
        turn: { type: 'string' },
        mosaic: { type: 'string' },
        ...analyzerFlags.options,
      },
    });
    const [folder, ...more] = positionals;
    if (!folder) throw new Error('name an evaluation folder');
    if (more.length > 0 && !values.compare) throw new Error('several folders are compared with --compare only');
    if (!['crop', 'detect', 'both'].includes(values.mode)) throw new Error(`--mode must be crop, detect or both`);
    const limit = values.limit === undefined ? Infinity : Number(values.limit);
    if (values.limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
      throw new Error(`--limit wants a whole number of samples ≥ 1, got "${values.limit}"`);
    if (values.pick !== 'largest' && values.pick !== 'central')
      throw new Error(`--pick must be largest or central, got "${values.pick}"`);
    const pick = values.pick;
    const set = loadEvalSet(folder);
    const subset = <T>(items: readonly T[]): T[] => evenlySpaced(items, limit);
    const tty = process.stderr.isTTY;
    const progress = (label: string) => (done: number, total: number) => {
      if (tty) process.stderr.write(`\r${label} ${done}/${total}`);
      if (tty && done === total) process.stderr.write('\n');
    };
    if (set.kind === 'detection') {
      const analyzer = new FaceAnalyzer(undefined, {
        ...analyzerOptionsFrom(values),
        assignment: { age: null, gender: null, ethnicity: null, emotion: null },
      });
      let images = subset(set.images);
      if (values.turn !== undefined) {
        const degrees = Number(values.turn);
        if (!Number.isFinite(degrees)) throw new Error(`--turn wants degrees, got "${values.turn}"`);
        images = turnedSet(images, degrees);
      }
      if (values.mosaic !== undefined) {
        const n = Number(values.mosaic);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--mosaic wants a whole number ≥ 1, got "${values.mosaic}"`);
        images = mosaicSet(images, n);
      }
      const report = await evaluateDetection(analyzer, images, progress('detecting'));
      await analyzer.models.release();
      if (values.json)
        process.stdout.write(`${JSON.stringify({ set: folder, kind: 'detection', ...report }, null, 2)}\n`);
      else {
        const d = report.detection;
        process.stdout.write(
          `${folder}: ${report.images} images, ${report.faces} faces, ${report.msPerImage.toFixed(0)} ms/image\n` +
            `IoU 0.4: recall ${pct(d.recall40)}  precision ${pct(d.precision40)}  AP ${pct(d.ap40)}\n` +
            `IoU 0.5: recall ${pct(d.recall50)}  precision ${pct(d.precision50)}  AP ${pct(d.ap50)}\n` +
            `false positives per image: ${figure(d.fpPerImage, (v) => v.toFixed(2))}\n` +
            (report.pose
              ? `|yaw| > 45°: recall ${pct(report.pose.yawOver45.recall40, report.pose.yawOver45.faces)} of ${report.pose.yawOver45.faces}; ` +
                `|roll| > 20°: recall ${pct(report.pose.rollOver20.recall40, report.pose.rollOver20.faces)} of ${report.pose.rollOver20.faces}\n`
              : '') +
            `recall by face size: ${report.bySize.map((b) => `${b.label} ${pct(b.recall40, b.faces)} of ${b.faces}`).join(', ')}\n` +
            (report.failed.length ? `failed: ${report.failed.length}\n` : ''),
        );
      }
      return 0;
    }
    if (set.samples.some((s) => s.person !== undefined)) {
      return await evalPeople(subset(set.samples), folder, { json: values.json, sweep: values.compare }, values);
    }
    const analyzer = new FaceAnalyzer(undefined, analyzerOptionsFrom(values));
    const samples = subset(set.samples);
    if (values.compare && more.length > 0) {
      const compareMode = values.mode === 'crop' ? 'crop' : 'detect';
      const results: { set: string; noFace: number; rows: CompareRow[] }[] = [];
      for (const f of [folder, ...more]) {
        const s = f === folder ? set : loadEvalSet(f);
        if (s.kind !== 'attributes') throw new Error(`${f} is not an attribute set (labels.csv)`);
        const name = path.basename(path.resolve(f));
        const { rows, noFace } = await compareCandidates(analyzer, subset(s.samples), compareMode, progress(name));
        results.push({ set: name, noFace, rows });
      }
      await analyzer.models.release();
      const joined = acrossSets(results);
      if (values.json) {
        const noFace = Object.fromEntries(results.map((r) => [r.set, r.noFace]));
        process.stdout.write(
          `${JSON.stringify({ sets: results.map((r) => r.set), mode: compareMode, noFace, ...joined }, null, 2)}\n`,
        );
      } else {
        const names = results.map((r) => r.set);
        process.stdout.write(
          `${compareMode} mode; no face found: ${results.map((r) => `${r.set} ${r.noFace}`).join(', ')}\n` +
            `attribute  candidate                               recipe       ${names.map((n) => n.slice(0, 18).padStart(18)).join(' ')}    worst     mean\n`,
        );
        for (const r of joined.rows) {
          const chosen = joined.choices[r.attribute] === r ? ' ← chosen' : '';
          process.stdout.write(
            `${r.attribute.padEnd(10)} ${r.candidate.padEnd(39)} ${r.recipe.padEnd(12)} ` +
              `${names.map((n) => pct(r.perSet[n]?.accuracy).padStart(18)).join(' ')} ${pct(r.worst).padStart(8)} ${pct(r.mean).padStart(8)}${chosen}\n`,
          );
        }
      }
      return 0;
    }
    if (values.compare) {
      const compareMode = values.mode === 'crop' ? 'crop' : 'detect';
      const { rows, noFace } = await compareCandidates(analyzer, samples, compareMode, progress('comparing'));
      await analyzer.models.release();
      if (values.json)
        process.stdout.write(`${JSON.stringify({ set: folder, mode: compareMode, noFace, rows }, null, 2)}\n`);
      else {
        process.stdout.write(
          `${folder} (${compareMode}): ${samples.length} images, detector found no face in ${noFace}\n`,
        );
        process.stdout.write(
          'attribute  candidate                               recipe       accuracy  worst class  MAE\n',
        );
        for (const r of rows) {
          process.stdout.write(
            `${r.attribute.padEnd(10)} ${r.candidate.padEnd(39)} ${r.recipe.padEnd(12)} ${pct(r.accuracy).padStart(8)}  ` +
              `${pct(r.worstClassRecall).padStart(11)}  ${figure(r.mae, (v) => v.toFixed(2))}\n`,
          );
        }
      }
      return 0;
    }
    const modes = values.mode === 'both' ? (['crop', 'detect'] as const) : [values.mode as 'crop' | 'detect'];
    const reports: AttributeReport[] = [];
    for (const mode of modes) reports.push(await evaluateAttributes(analyzer, samples, mode, progress(mode), pick));
    await analyzer.models.release();
    const [first, ...others] = reports;
    if (values.json) {
      // The first mode's figures at the top level (and the others in `other`) as before; `modes` carries
      // every mode by name, so `--mode both` has both side by side.
      const out = {
        set: folder,
        kind: 'attributes',
        assignment: analyzer.options.assignment,
        ...first,
        other: others,
        modes: Object.fromEntries(reports.map((r) => [r.mode, r])),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      for (const r of reports) {
        process.stdout.write(
          `${folder} — ${r.mode}: ${r.description}; ${r.images} images, ${r.msPerImage.toFixed(0)} ms/image\n`,
        );
        if (r.age) {
          process.stdout.write(
            `  age: MAE ${figure(r.age.mae, (v) => `${v.toFixed(2)} y`)}, group ${pct(r.age.groupAccuracy)}, within one ${pct(r.age.groupWithinOne)}\n`,
          );
        }
        if (r.gender) process.stdout.write(`  gender: ${pct(r.gender.accuracy)}\n`);
        for (const key of ['ethnicity', 'emotion'] as const) {
          const m = r[key];
          if (!m) continue;
          const per = Object.entries(m.perClassRecall)
            .map(([k, v]) => `${k} ${pct(v)}`)
            .join(', ');
          process.stdout.write(`  ${key}: ${pct(m.accuracy)} (worst class ${pct(m.worstClassRecall)}; ${per})\n`);
        }
        process.stdout.write(`  no face found: ${r.noFace}; failed: ${r.failed.length}\n`);
        if (r.calibration) {
          const ece = Object.entries(r.calibration).map(
            ([k, v]) =>
              `${k} ${pct(v?.ece)}${v?.fit ? ` (${pct(v.fit.eceAfter)} at temperature ${v.fit.temperature})` : ''}`,
          );
          if (ece.length) process.stdout.write(`  expected calibration error: ${ece.join(', ')}\n`);
        }
        if (r.bias) {
          process.stdout.write('  accuracy by group (faces: age group / gender / ethnicity):\n');
          for (const [group, c] of [...Object.entries(r.bias.byRaceGender), ...Object.entries(r.bias.byAgeGroup)]) {
            process.stdout.write(
              `    ${group.padEnd(24)} ${String(c.faces).padStart(5)}: ${pct(c.age)} / ${pct(c.gender)} / ${pct(c.ethnicity)}\n`,
            );
          }
        }
      }
    }
    return 0;
  },
};
