/**
 * One image in, every face out: decode → MTCNN → per-face crops → attribute networks (all faces of an
 * image in one batch per network) → age group, gender, ethnicity, emotion and a quality signal.
 */
import ort from 'onnxruntime-node';
import { calibrateEstimate } from './attributes/calibration.js';
import { type EstimatedAttribute, combineEstimates, isEstimated } from './attributes/ensemble.js';
import { HEADS_NETWORK, HEADS_PROVIDES, type SharedRun, measuredAssignment, runHeads } from './attributes/heads.js';
import { identitySpec, identityVectors, identityWithin } from './attributes/identity.js';
import { type Attributes, type AttributeNetwork, type ModelRef, NETWORKS } from './attributes/networks.js';
import { type Detection, type MtcnnOptions, MtcnnDetector, type Point } from './detection/mtcnn.js';
import { type CropRecipe, appendMirrored, cropFace } from './faces/crop.js';
import { type DecodeOptions, type DecodedImage, decodeForAnalysis, uprightToStored } from './image/decode.js';
import { AreaSampler, type PixelImage } from './image/resample.js';
import type { ModelEntry } from './manifest.js';
import { type LoadedModel, ModelStore } from './sessions.js';

/**
 * Which network serves each attribute: a manifest model name, "a+b" for an ensemble averaging both,
 * or null for none.
 */
export interface Assignment {
  age: string | null;
  gender: string | null;
  ethnicity: string | null;
  emotion: string | null;
}

/**
 * Chosen by measurement (`facets eval <set>` and `--compare`; tables in models/README.md), by the worst
 * dev set, never by one set. Before heads: on utkface-dev face-api's age/gender network beats faceres
 * and gear for age group and gender; gear is the only ethnicity network. Where the shipped heads measure
 * better they take over at run time (`measuredAssignment`). Emotion, fer2013-dev (crop) / emotion-photos-dev
 * (detect): Human's network alone 66.9 / 44.4 %, face-api's expression network 58.1 / 50.2 %, their
 * average 62.6 / 51.7 %: the average has the best worst set (by 7 points), so it serves, although Human's
 * network alone wins on FER2013's own 48-px crops. Both networks mirrored at run time and face-api's framed
 * as FairFace's: 65.2 / 53.4 % (AttributeNetwork.mirror).
 */
export const DEFAULT_ASSIGNMENT: Assignment = {
  age: 'faceapi-age-gender',
  gender: 'faceapi-age-gender',
  ethnicity: 'gear',
  emotion: 'emotion+faceapi-expression',
};

export interface AnalyzerOptions {
  decode: Partial<DecodeOptions>;
  detection: Partial<MtcnnOptions>;
  assignment: Assignment;
  /** Per-network crop recipe overriding the network's default. */
  recipes: Record<string, CropRecipe>;
  /** Also compute the 128-d embedding of every face. */
  embeddings: boolean;
  /**
   * Give every face its stored vectors (AnalyzedFace.vectors): the identity vector people are
   * clustered on ([Note: identity framing]) and the heads' input where heads ran (the library scans so).
   */
  identity: boolean;
  /**
   * Where the detector finds nothing, look again for one large face in the photo mirror-extended on every
   * side: a close-up or a tight crop cuts the face at the border, where MTCNN misses it (measured on
   * emotion-photos-dev in models/README.md). Only photos with no face pay for it, and little: the second
   * pass searches only for faces at least CLOSE_UP_MIN_FACE of the photo's shorter side.
   */
  closeUps: boolean;
  /** Test-time mirroring for the networks whose definition asks for it (AttributeNetwork.mirror). */
  mirror: boolean;
}

/**
 * The close-up passes: mirror-extension on each side as a fraction of the longer side, tried in turn until
 * one finds a face. On emotion-photos-dev 0.3 alone leaves 35 of 629 photos faceless and 0.5 alone 38 (it
 * loses some that 0.3 finds), while 0.5 after 0.3 finds 9 of the 35, at the main pass's thresholds (a
 * lower O-Net threshold finds more but gives up what keeps faceless photos faceless).
 */
const CLOSE_UP_PADS = [0.3, 0.5];
const CLOSE_UP_MIN_FACE = 0.3;

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceQuality {
  /** Shorter side of the face box, in pixels of the full-resolution upright photo. */
  faceSize: number;
  detectorScore: number;
  /** Variance of the Laplacian of the face at 64×64 grey, 0..∞ (under ~50 looks blurred). */
  sharpness: number;
  /** True when any signal suggests the attributes should not be trusted. */
  uncertain: boolean;
  reasons: string[];
}

export interface AnalyzedFace extends Attributes {
  /** In pixels of the upright (EXIF-rotated) full-resolution photo. */
  box: FaceBox;
  /** The same box's corners in the pixel grid stored in the file. */
  storedBox: FaceBox;
  score: number;
  landmarks: Point[];
  quality: FaceQuality;
}

export interface ImageAnalysis {
  width: number;
  height: number;
  orientation: number;
  analysedWidth: number;
  analysedHeight: number;
  format: string;
  faces: AnalyzedFace[];
  timings: { decodeMs: number; detectMs: number; attributesMs: number };
}

/**
 * Faces per attribute-network run: one. Batching every face of a photo into one run was measured
 * (sample4.jpg, 4 faces, 2 cores) against one face per run with a memory arena, which speeds up these
 * fixed-size networks by a third; an arena keeps the largest batch it has seen, so it needs a bounded
 * batch. Scanning 30 afw-dev photos with 2 workers: all faces batched, no arena 0.90 GB peak RSS;
 * batches of 4 with arena 1.34 GB; one face with arena 0.99 GB — and attributes 25 % faster than
 * batched (142–164 ms against 197–205 ms for the 4 faces). The networks still run side by side. (No
 * session keeps an arena since 2026-12-04: [Note: session memory] in sessions.ts.)
 */
const ATTRIBUTE_BATCH = 1;

/**
 * Where MTCNN's five landmarks (eyes, nose, mouth corners) sit in its own face boxes on average, as
 * fractions of the box (measured on the 20 faces of face-api's six demo photos): the framing of a drawn
 * box where O-Net does not find a face.
 */
const MEAN_FACE_LANDMARKS: readonly Point[] = [
  [0.277, 0.407],
  [0.705, 0.418],
  [0.455, 0.62],
  [0.291, 0.758],
  [0.669, 0.765],
];

const UNCERTAIN_FACE_PX = 40;
const UNCERTAIN_SCORE = 0.95;
const UNCERTAIN_SHARPNESS = 40;

export class FaceAnalyzer {
  readonly options: AnalyzerOptions;
  readonly detector: MtcnnDetector;

  constructor(
    readonly models: ModelStore = new ModelStore(),
    options: Partial<AnalyzerOptions> = {},
  ) {
    this.options = {
      decode: {},
      detection: {},
      // Heads trained on embeddings (facets train-heads) take an attribute only where measured better.
      assignment: options.assignment ?? measuredAssignment(DEFAULT_ASSIGNMENT),
      recipes: {},
      embeddings: false,
      identity: false,
      closeUps: true,
      mirror: true,
      ...options,
    };
    this.detector = new MtcnnDetector(models, this.options.detection);
  }

  async analyze(input: string | Buffer): Promise<ImageAnalysis> {
    const t0 = performance.now();
    const image = await decodeForAnalysis(input, this.options.decode);
    const t1 = performance.now();
    const { faces, detectMs, attributesMs } = await this.analyzeTimed(image);
    return {
      width: image.uprightWidth,
      height: image.uprightHeight,
      orientation: image.orientation,
      analysedWidth: image.width,
      analysedHeight: image.height,
      format: image.format,
      faces,
      timings: { decodeMs: t1 - t0, detectMs, attributesMs },
    };
  }

  /**
   * Loads every network this analyzer will use by running them once on a blank image with a made-up
   * face, so a missing or corrupt model fails here, up front (whatever the assignment).
   */
  async loadAll(): Promise<void> {
    await Promise.all(['pnet', 'rnet', 'onet'].map((name) => this.models.load(name)));
    const side = 64;
    const blank = { data: new Uint8Array(side * side * 3).fill(128), width: side, height: side, channels: 3 };
    const face: Detection = {
      box: { x1: 16, y1: 12, x2: 48, y2: 52 },
      score: 1,
      landmarks: [
        [26, 28],
        [38, 28],
        [32, 36],
        [27, 44],
        [37, 44],
      ],
    };
    await this.attributes(blank, new AreaSampler(blank), [face]);
  }

  /** The faces of an image decoded elsewhere (the library decodes once for analysis and thumbnails). */
  async analyzeDecoded(image: DecodedImage): Promise<AnalyzedFace[]> {
    return (await this.analyzeTimed(image)).faces;
  }

  private async analyzeTimed(
    image: DecodedImage,
  ): Promise<{ faces: AnalyzedFace[]; detectMs: number; attributesMs: number }> {
    const t1 = performance.now();
    const sampler = new AreaSampler(image);
    let detections = await this.detector.detect(image, sampler);
    // Attributes are read where the faces were found: the photo, or its mirror-extended version.
    let found = { image: image as PixelImage, sampler, faces: detections };
    for (const padding of this.options.closeUps ? CLOSE_UP_PADS : []) {
      if (detections.length > 0) break;
      const closeUp = await this.detectCloseUps(image, padding);
      if (closeUp.faces.length > 0) {
        found = closeUp;
        detections = closeUp.faces.map((d) => shiftDetection(d, -closeUp.pad));
      }
    }
    const t2 = performance.now();
    const attributes = await this.attributes(found.image, found.sampler, found.faces);
    const t3 = performance.now();
    const faces = detections.map((d, i) => this.describe(image, sampler, d, attributes[i] ?? {}));
    return { faces, detectMs: t2 - t1, attributesMs: t3 - t2 };
  }

  /**
   * [Note: face edits] Faces given by their boxes alone (a face the user drew, a named region of another
   * tool), in upright full-resolution pixels of the decoded image: no detection. The landmarks come
   * from O-Net on each box, as the pipeline's last stage gives them; where O-Net's landmarks fall
   * outside the box (it does not see a face there) the face is framed from the box by a mean face's
   * landmark positions. Then the attribute networks and, with `identity`, the vectors, as for any face.
   */
  async analyzeBoxes(image: DecodedImage, boxes: readonly FaceBox[]): Promise<AnalyzedFace[]> {
    if (boxes.length === 0) return [];
    const sampler = new AreaSampler(image);
    const k = image.scale;
    const inAnalysed = boxes.map((b) => ({
      x1: b.x * k,
      y1: b.y * k,
      x2: (b.x + b.width) * k,
      y2: (b.y + b.height) * k,
    }));
    const found = await this.detector.landmarksIn(sampler, inAnalysed);
    const detections: Detection[] = inAnalysed.map((box, i) => {
      const { landmarks, score } = found[i] as { landmarks: Point[]; score: number };
      const w = box.x2 - box.x1;
      const h = box.y2 - box.y1;
      const inside = landmarks.every(
        ([x, y]) => x >= box.x1 - 0.1 * w && x <= box.x2 + 0.1 * w && y >= box.y1 - 0.1 * h && y <= box.y2 + 0.1 * h,
      );
      const framed = inside
        ? landmarks
        : MEAN_FACE_LANDMARKS.map(([fx, fy]) => [box.x1 + fx * w, box.y1 + fy * h] as Point);
      return { box, score, landmarks: framed };
    });
    const attributes = await this.attributes(image, sampler, detections);
    return detections.map((d, i) => this.describe(image, sampler, d, attributes[i] ?? {}));
  }

  private readonly closeUpDetectors = new Map<number, MtcnnDetector>();

  /** The close-up pass (AnalyzerOptions.closeUps): faces whose centre lies in the photo, in padded pixels. */
  private async detectCloseUps(
    image: PixelImage,
    padding: number,
  ): Promise<{ image: PixelImage; sampler: AreaSampler; faces: Detection[]; pad: number }> {
    const pad = Math.round(padding * Math.max(image.width, image.height));
    const padded = mirrorExtend(image, pad);
    const minFaceSize = Math.max(20, Math.round(CLOSE_UP_MIN_FACE * Math.min(image.width, image.height)));
    let detector = this.closeUpDetectors.get(minFaceSize);
    if (!detector) {
      detector = new MtcnnDetector(this.models, { ...this.options.detection, minFaceSize });
      this.closeUpDetectors.set(minFaceSize, detector);
    }
    const sampler = new AreaSampler(padded);
    const inside = (d: Detection) => {
      const cx = (d.box.x1 + d.box.x2) / 2 - pad;
      const cy = (d.box.y1 + d.box.y2) / 2 - pad;
      return cx >= 0 && cy >= 0 && cx < image.width && cy < image.height;
    };
    const faces = (await detector.detect(padded, sampler)).filter(inside);
    return { image: padded, sampler, faces, pad };
  }

  /**
   * Runs the assigned attribute networks on faces of an already decoded image: each network once, on
   * all faces in one batch; an assignment "a+b" averages the networks' estimates (an ensemble).
   */
  async attributes(image: PixelImage, sampler: AreaSampler, faces: readonly Detection[]): Promise<Attributes[]> {
    const results: Attributes[] = faces.map(() => ({}));
    if (faces.length === 0) return results;
    const plan = (Object.entries(this.options.assignment) as [EstimatedAttribute, string | null][])
      .filter((entry): entry is [EstimatedAttribute, string] => entry[1] !== null)
      .map(([attribute, names]) => ({ attribute, networks: names.split('+') }));
    const needed = new Set(plan.flatMap((p) => p.networks));
    if (this.options.embeddings) needed.add('facenet128');
    // [Note: shared runs] Networks the heads may run for us, decoded from the heads' embedding run.
    const shared = needed.has(HEADS_NETWORK) ? await this.sharedRuns([...needed]) : [];
    // onnxruntime-node runs a session on this thread (after a setImmediate): the networks take turns.
    const outputs = new Map<string, Attributes[]>(
      await Promise.all(
        [...needed]
          .filter((name) => !shared.some((s) => s.network === name))
          .map(async (name): Promise<[string, Attributes[]]> => {
            if (name === HEADS_NETWORK) return [name, await runHeads(this.models, sampler, faces, undefined, shared)];
            const network = NETWORKS[name];
            if (!network) throw new Error(`unknown attribute network "${name}"`);
            return [name, await this.runNetwork(network, sampler, faces)];
          }),
      ),
    );
    // A shared network the heads did not run after all (other heads, another framing) runs on its own.
    for (const s of shared) {
      const network = NETWORKS[s.network] as AttributeNetwork;
      outputs.set(s.network, s.results ?? (await this.runNetwork(network, sampler, faces)));
    }
    for (const { attribute, networks } of plan) {
      const served = networks.join('+');
      for (const n of networks) {
        const provides = n === HEADS_NETWORK ? HEADS_PROVIDES : NETWORKS[n]?.provides;
        if (!provides?.includes(attribute)) throw new Error(`network ${n} does not estimate ${attribute}`);
      }
      faces.forEach((_, i) => {
        const parts = networks.map((n) => outputs.get(n)?.[i] ?? {});
        const value = parts.length === 1 ? parts[0]?.[attribute] : combineEstimates(attribute, parts)[attribute];
        if (value) (results[i] as Record<string, unknown>)[attribute] = calibrateEstimate(attribute, served, value);
        // The seven FairFace classes ride with ethnicity where the heads alone serve it.
        const seven = parts.length === 1 && attribute === 'ethnicity' ? parts[0]?.ethnicity7 : undefined;
        if (seven) (results[i] as Attributes).ethnicity7 = seven;
      });
    }
    if (this.options.identity) await this.identity(sampler, faces, outputs.get(HEADS_NETWORK), results);
    if (this.options.embeddings) {
      faces.forEach((_, i) => {
        const embedding = outputs.get('facenet128')?.[i]?.embedding;
        if (embedding) (results[i] as Attributes).embedding = embedding;
      });
    }
    return results;
  }

  /** Fills each result's `vectors`: the heads' inputs, and the identity vector (from them when they hold it). */
  private async identity(
    sampler: AreaSampler,
    faces: readonly Detection[],
    heads: readonly Attributes[] | undefined,
    results: Attributes[],
  ): Promise<void> {
    const spec = identitySpec(this.models);
    const missing: number[] = [];
    faces.forEach((_, i) => {
      const stored = heads?.[i]?.vectors ?? [];
      const identity = identityWithin(stored, this.models);
      (results[i] as Attributes).vectors = identity ? [{ spec, vector: identity }, ...stored] : [...stored];
      if (!identity) missing.push(i);
    });
    if (missing.length === 0) return;
    const computed = await identityVectors(
      this.models,
      sampler,
      missing.map((i) => faces[i] as Detection),
    );
    missing.forEach((i, k) =>
      (results[i] as Attributes).vectors?.unshift({ spec, vector: computed[k] as Float32Array }),
    );
  }

  /** The assigned networks that could come out of the heads' embedding run ([Note: shared runs]). */
  private async sharedRuns(needed: readonly string[]): Promise<SharedRun[]> {
    const runs: SharedRun[] = [];
    for (const name of needed) {
      const network = NETWORKS[name];
      if (!network?.features) continue;
      const { ref, recipe, mirrored } = await this.served(network);
      if (!mirrored) runs.push({ network: name, recipe, decode: (outputs, row) => network.decode(outputs, row, ref) });
    }
    return runs;
  }

  /** How a network serves here: its loaded model, the model reference its estimates carry, its framing. */
  private async served(
    network: AttributeNetwork,
  ): Promise<{ loaded: LoadedModel; ref: ModelRef; recipe: CropRecipe; mirrored: boolean }> {
    const loaded = await this.models.load(network.model);
    return {
      loaded,
      ref: { name: network.model, version: modelVersion(loaded.entry, this.models) },
      recipe: this.options.recipes[network.model] ?? network.recipe,
      mirrored: network.mirror === true && this.options.mirror,
    };
  }

  /** Runs one network on crops of the given faces, in one batch. */
  async runNetwork(
    network: AttributeNetwork,
    sampler: AreaSampler,
    faces: readonly Detection[],
  ): Promise<Attributes[]> {
    const { loaded, ref, recipe: wanted, mirrored } = await this.served(network);
    // Alignment needs the five landmarks; a face given without them is cropped by its box.
    const recipeFor = (f: Detection): CropRecipe =>
      wanted.method === 'align' && f.landmarks.length !== 5 ? { method: 'box', margin: 1 } : wanted;
    const channels = network.grey ? 1 : 3;
    const per = network.size * network.size * channels;
    const copies = mirrored ? 2 : 1;
    const results: Attributes[] = [];
    for (let start = 0; start < faces.length; start += ATTRIBUTE_BATCH) {
      const batch = faces.slice(start, start + ATTRIBUTE_BATCH);
      const n = batch.length;
      const input = new Float32Array(per * n * copies);
      batch.forEach((f, i) => {
        if (network.grey && sampler.image.channels === 3) {
          greyCrop(sampler, f, recipeFor(f), network.size, input, i * per, network.pixel);
        } else {
          cropFace(sampler, f, recipeFor(f), network.size, input, i * per, network.pixel);
        }
      });
      if (mirrored) appendMirrored(input, n, network.size, channels);
      const outputs = await loaded.session.run({
        [loaded.entry.input.name]: new ort.Tensor('float32', input, [n * copies, network.size, network.size, channels]),
      });
      batch.forEach((_, i) => {
        const plain = network.decode(outputs, i, ref);
        results.push(mirrored ? mirrorAverage(network, plain, network.decode(outputs, n + i, ref), ref) : plain);
      });
    }
    return results;
  }

  private describe(image: DecodedImage, sampler: AreaSampler, d: Detection, attributes: Attributes): AnalyzedFace {
    const k = 1 / image.scale;
    const x1 = Math.max(0, d.box.x1 * k);
    const y1 = Math.max(0, d.box.y1 * k);
    const x2 = Math.min(image.uprightWidth, d.box.x2 * k);
    const y2 = Math.min(image.uprightHeight, d.box.y2 * k);
    const box = { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
    const [sx1, sy1] = uprightToStored(x1, y1, image.orientation, image.storedWidth, image.storedHeight);
    const [sx2, sy2] = uprightToStored(x2, y2, image.orientation, image.storedWidth, image.storedHeight);
    const storedBox = {
      x: Math.min(sx1, sx2),
      y: Math.min(sy1, sy2),
      width: Math.abs(sx2 - sx1),
      height: Math.abs(sy2 - sy1),
    };
    const faceSize = Math.min(box.width, box.height);
    const sharpness = laplacianVariance(sampler, d);
    const reasons: string[] = [];
    if (faceSize < UNCERTAIN_FACE_PX) reasons.push('small face');
    if (d.score < UNCERTAIN_SCORE) reasons.push('low detector score');
    if (sharpness < UNCERTAIN_SHARPNESS) reasons.push('blurred');
    return {
      box,
      storedBox,
      score: d.score,
      landmarks: d.landmarks.map(([x, y]) => [x * k, y * k] as Point),
      ...attributes,
      quality: { faceSize, detectorScore: d.score, sharpness, uncertain: reasons.length > 0, reasons },
    };
  }
}

/**
 * A grey network's input from an RGB sampler: the crop cut in colour, then its luma (BT.601, as toGrey).
 * Cheaper than a grey copy of the whole photo and its own summed-area table (3 % and 2 % of a profile
 * of the analysis); luma is linear, so only toGrey's rounding to whole levels is gone.
 */
function greyCrop(
  sampler: AreaSampler,
  face: Detection,
  recipe: CropRecipe,
  size: number,
  out: Float32Array,
  offset: number,
  pixel: (v: number) => number,
): void {
  const rgb = new Float32Array(size * size * 3);
  cropFace(sampler, face, recipe, size, rgb, 0, (v) => v);
  for (let i = 0; i < size * size; i++) {
    const luma =
      0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number);
    out[offset + i] = pixel(luma);
  }
}

/**
 * A network's estimates of a face and of its mirror image, averaged per attribute (probabilities, and
 * years for age); the estimate still names the one network.
 */
function mirrorAverage(network: AttributeNetwork, plain: Attributes, mirror: Attributes, ref: ModelRef): Attributes {
  const out: Attributes = { ...plain };
  for (const attribute of network.provides.filter(isEstimated)) {
    const value = combineEstimates(attribute, [plain, mirror])[attribute];
    if (value) (out as Record<string, unknown>)[attribute] = { ...value, model: ref };
  }
  return out;
}

/** A detection moved by (dx, dx): from the mirror-extended photo's pixels back to the photo's. */
function shiftDetection(d: Detection, delta: number): Detection {
  return {
    ...d,
    box: { x1: d.box.x1 + delta, y1: d.box.y1 + delta, x2: d.box.x2 + delta, y2: d.box.y2 + delta },
    landmarks: d.landmarks.map(([x, y]) => [x + delta, y + delta] as Point),
  };
}

/** The image extended by `pad` pixels on every side, mirrored at the edges (edge pixel not repeated twice). */
export function mirrorExtend(image: PixelImage, pad: number): PixelImage {
  const { width: w, height: h, channels } = image;
  const W = w + 2 * pad;
  const H = h + 2 * pad;
  const reflect = (i: number, n: number): number => {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let m = ((i % period) + period) % period;
    if (m >= n) m = period - m;
    return m;
  };
  const cols = Int32Array.from({ length: W }, (_, x) => reflect(x - pad, w) * channels);
  const data = new Uint8Array(W * H * channels);
  for (let y = 0; y < H; y++) {
    const src = reflect(y - pad, h) * w * channels;
    let o = y * W * channels;
    for (let x = 0; x < W; x++) {
      const c0 = src + (cols[x] as number);
      for (let c = 0; c < channels; c++) data[o++] = image.data[c0 + c] as number;
    }
  }
  return { data, width: W, height: H, channels };
}

/** "<source package version>+<first 12 hex of the ONNX sha256>", e.g. "3.0.4+1a2b3c4d5e6f". */
function modelVersion(entry: ModelEntry, store: ModelStore): string {
  const source = store.manifest.sources[entry.source];
  return `${source?.version ?? '?'}+${entry.sha256.slice(0, 12)}`;
}

/** Sharpness: variance of the 4-neighbour Laplacian over a 64×64 luma crop of the face box. */
function laplacianVariance(sampler: AreaSampler, d: Detection): number {
  const size = 64;
  const rgb = new Float32Array(size * size * 3);
  cropFace(sampler, d, { method: 'box', margin: 1 }, size, rgb, 0, (v) => v);
  const y = new Float32Array(size * size);
  for (let i = 0; i < y.length; i++) {
    y[i] = 0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number);
  }
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let r = 1; r < size - 1; r++) {
    for (let c = 1; c < size - 1; c++) {
      const i = r * size + c;
      const l =
        (y[i - 1] as number) +
        (y[i + 1] as number) +
        (y[i - size] as number) +
        (y[i + size] as number) -
        4 * (y[i] as number);
      sum += l;
      sq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sq / n - mean * mean;
}
