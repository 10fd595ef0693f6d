/**
 * `facets models calibrate <int8 model>` (maintainers): measures the activation ranges an int8 model is
 * quantised with and writes them to the file its manifest entry names ([Note: int8 models]).
 *
 * The float model runs inside the real engine on the calibration photos, so it sees exactly the crops
 * it sees at run time (detected, aligned, framed as its recipe says); every face's crop and its mirror
 * image then go through the float model with the quantised tensors exposed, and each tensor's range is
 * the min and max over all of them. The photos come from pinned npm packages (MIT), never from
 * ../shared, so the ranges file may be committed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { appendMirrored } from '../../main/engine/faces/crop.js';
import { type ModelEntry, findModel, readManifest } from '../../main/engine/manifest.js';
import { type LoadedModel, ModelStore, observeRuns } from '../../main/engine/sessions.js';
import { calibrationModel, type Ranges, type RangesFile, rangeTensors } from './quantize.js';
import { sha256 } from './sources.js';

const require = createRequire(import.meta.url);

/** The calibration photos: face-api's demo photos and Human's sample sheet (devDependencies). */
export function calibrationPhotos(): string[] {
  const faceApi = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
  // Human's package exports no package.json: its root is two folders above its entry point.
  const human = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..');
  return [
    ...[1, 2, 3, 4, 5, 6].map((i) => path.join(faceApi, `sample${i}.jpg`)),
    path.join(human, 'assets', 'samples.jpg'),
  ];
}

/** A model store that hands the float model out in place of `target` and keeps every input it is fed. */
class CapturingStore extends ModelStore {
  readonly feeds: ort.Tensor[] = [];

  constructor(
    dir: string,
    private readonly target: string,
    private readonly float: string,
  ) {
    super(dir, { providers: ['cpu'] });
  }

  override load(name: string): Promise<LoadedModel> {
    if (name !== this.target) return super.load(name);
    return super.load(this.float).then((loaded) =>
      observeRuns(loaded, (feeds) => {
        const t = feeds[loaded.entry.input.name];
        if (t) this.feeds.push(new ort.Tensor('float32', (t.data as Float32Array).slice(), t.dims));
      }),
    );
  }
}

export async function calibrate(modelsDir: string, name: string, log: (line: string) => void): Promise<RangesFile> {
  const manifest = readManifest(modelsDir);
  const entry = findModel(manifest, name);
  const q = entry.quantized;
  if (!q) throw new Error(`${name} is not a quantised model (no "quantized" in its manifest entry)`);
  const from: ModelEntry = findModel(manifest, q.from);
  const store = new CapturingStore(modelsDir, name, from.name);
  const analyzer = new FaceAnalyzer(store, {});
  const photos = calibrationPhotos();
  for (const photo of photos) {
    const before = store.feeds.length;
    const analysis = await analyzer.analyze(photo);
    log(`${path.basename(photo)}: ${analysis.faces.length} faces, ${store.feeds.length - before} runs`);
  }
  if (store.feeds.length === 0) throw new Error(`the analysis never ran ${from.name} on the calibration photos`);
  const floatBytes = new Uint8Array(readFileSync(path.join(modelsDir, from.file)));
  const session = await ort.InferenceSession.create(calibrationModel(floatBytes), { executionProviders: ['cpu'] });
  const tensors = rangeTensors(floatBytes);
  const ranges: Ranges = {};
  let inputs = 0;
  for (const feed of store.feeds) {
    const [n, h, w, c] = feed.dims as [number, number, number, number];
    // Each face and its mirror image: the ranges must hold for faces turned either way.
    const data = new Float32Array(feed.data.length * 2);
    data.set(feed.data as Float32Array);
    appendMirrored(data, n, h, c);
    inputs += 2 * n;
    const out = await session.run({ [from.input.name]: new ort.Tensor('float32', data, [2 * n, h, w, c]) });
    for (const t of tensors) {
      const values = out[t]?.data as Float32Array | undefined;
      if (!values) throw new Error(`calibration model gave no ${t}`);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const r = ranges[t];
      ranges[t] = r ? [Math.min(r[0], lo), Math.max(r[1], hi)] : [lo, hi];
    }
  }
  await session.release();
  await store.release();
  // Six significant digits: the file is read by people too, and the build needs no more.
  const round = (v: number) => Number(v.toPrecision(6));
  const sorted: Ranges = {};
  for (const t of tensors) {
    const r = ranges[t] as [number, number];
    sorted[t] = [round(r[0]), round(r[1])];
  }
  const result: RangesFile = {
    model: name,
    from: from.name,
    fromSha256: from.sha256,
    photos: photos.map((p) => ({ file: path.relative(path.dirname(modelsDir), p), sha256: sha256(readFileSync(p)) })),
    inputs,
    ranges: sorted,
  };
  writeFileSync(path.join(modelsDir, q.ranges), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
