/**
 * The pretrained attribute networks' probabilities on a labelled face set, cached like the embeddings
 * (model sha256 + framing + image path): the baseline the heads must beat, and the other half of an
 * ensemble such as 'gear+heads'. 'crop' framing is `facets eval --mode crop` (the whole crop is the
 * face, every network cut by that box); 'detect' is the largest MTCNN face of the mirror-extended crop
 * with each network's own recipe (as `facets eval --compare` frames detect mode).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { AGE_GROUPS, EMOTIONS, ETHNICITIES } from '../../main/engine/attributes/labels.js';
import { NETWORKS } from '../../main/engine/attributes/networks.js';
import type { MtcnnDetector } from '../../main/engine/detection/mtcnn.js';
import { AreaSampler, toGrey } from '../../main/engine/image/resample.js';
import type { ModelStore } from '../../main/engine/sessions.js';
import { cacheDir, fileStamp, shortHash } from '../../main/learning/cache.js';
import { frameFaces } from './embeddings.js';

/** One network's estimate for one face, as probabilities in labels.ts order. */
export interface NetworkPrediction {
  age?: { years: number; groups: number[] };
  /** P(male). */
  gender?: number;
  ethnicity?: number[];
  emotion?: number[];
}

interface PredictionFile {
  network: string;
  sha256: string;
  framing: string;
  paths: string[];
  stamps: string[];
  rows: NetworkPrediction[];
}

/** Predictions of `network` on the faces of `files` (one set under `root`), from the cache where present. */
export async function networkPredictions(
  models: ModelStore,
  network: string,
  framing: 'crop' | 'detect',
  root: string,
  files: readonly string[],
  options: { progress?: (done: number, total: number) => void; batch?: number } = {},
): Promise<NetworkPrediction[]> {
  const net = NETWORKS[network];
  if (!net) throw new Error(`unknown network ${network}`);
  const sha256 = models.entry(net.model).sha256;
  const file = path.join(
    cacheDir(),
    'predictions',
    `${network}@${sha256.slice(0, 12)}`,
    framing,
    `${shortHash(path.resolve(root))}.json`,
  );
  const cached: PredictionFile | null = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as PredictionFile)
    : null;
  const known = new Map<string, NetworkPrediction>();
  cached?.paths.forEach((p, i) => known.set(`${p}|${cached.stamps[i]}`, cached.rows[i] as NetworkPrediction));
  const stamps = files.map(fileStamp);
  const missing = files.map((_, i) => i).filter((i) => !known.has(`${files[i]}|${stamps[i]}`));
  const analyzer = new FaceAnalyzer(models);
  const detectors = new Map<number, MtcnnDetector>();
  const batch = options.batch ?? 16;
  for (let start = 0; start < missing.length; start += batch) {
    const chunk = missing.slice(start, start + batch);
    const faces = await frameFaces(
      models,
      framing === 'detect',
      chunk.map((i) => files[i] as string),
      detectors,
    );
    for (const [k, i] of chunk.entries()) {
      const f = faces[k];
      if (!f) continue;
      const sampler = net.grey ? new AreaSampler(toGrey(f.sampler.image)) : f.sampler;
      const [attrs] = await analyzer.runNetwork(net, sampler, [f.face]);
      const row: NetworkPrediction = {};
      if (attrs?.age)
        row.age = { years: attrs.age.years, groups: AGE_GROUPS.map((g) => attrs.age?.groupProbabilities[g] ?? 0) };
      if (attrs?.gender)
        row.gender = attrs.gender.label === 'male' ? attrs.gender.probability : 1 - attrs.gender.probability;
      if (attrs?.ethnicity) row.ethnicity = ETHNICITIES.map((l) => attrs.ethnicity?.probabilities[l] ?? 0);
      if (attrs?.emotion) row.emotion = EMOTIONS.map((l) => attrs.emotion?.probabilities[l] ?? 0);
      known.set(`${files[i]}|${stamps[i]}`, row);
    }
    options.progress?.(Math.min(start + batch, missing.length), missing.length);
  }
  const rows = files.map((f, i) => known.get(`${f}|${stamps[i]}`) as NetworkPrediction);
  if (missing.length > 0) {
    const out: PredictionFile = {
      network,
      sha256,
      framing,
      paths: [...known.keys()].map((k) => k.slice(0, k.lastIndexOf('|'))),
      stamps: [...known.keys()].map((k) => k.slice(k.lastIndexOf('|') + 1)),
      rows: [...known.values()],
    };
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(out));
    renameSync(`${file}.tmp`, file);
  }
  return rows;
}
