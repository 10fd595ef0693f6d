/**
 * MTCNN face detection as the paper describes it: an image pyramid scanned by P-Net (stride 2 over
 * 12×12 cells), NMS within and across scales, box regression and squaring; R-Net on 24×24 crops; O-Net
 * on 48×48 crops giving boxes, five landmarks and scores; a final NMS by the smaller area.
 *
 * The three networks are the ONNX models pnet/rnet/onet (models/manifest.json). Their inputs are RGB,
 * normalised as (x − 127.5) / 128, with the spatial axes transposed (x first) as the original MATLAB-
 * trained weights expect; crops that leave the image are zero padded before normalising. Box
 * arithmetic follows the reference's 1-based pixel convention and converts to 0-based at the end.
 */
import ort from 'onnxruntime-node';
import type { ModelStore } from '../sessions.js';
import { AreaSampler, type PixelImage, rotateImage } from '../image/resample.js';
import {
  type Box,
  type Offsets,
  type ScoredBox,
  carryBox,
  fix,
  nms,
  pnetCandidates,
  pyramidScales,
  regress,
  square,
} from './geometry.js';

export interface MtcnnOptions {
  /** Smallest face to find, in pixels of the analysed image (default 20). */
  minFaceSize: number;
  /** Pyramid scale step (default 0.709, i.e. √0.5 per level). */
  scaleFactor: number;
  /** Score thresholds for P-Net, R-Net and O-Net (default 0.6, 0.7, 0.7). */
  thresholds: readonly [number, number, number];
  /**
   * Extra passes on the image turned by these angles (degrees, clockwise), for faces rolled beyond what
   * the networks were trained on; their faces are mapped back and merged with the upright pass's.
   * Default none: measured on rotated afw-dev photos in models/README.md.
   */
  rotations: readonly number[];
}

/**
 * The paper's pyramid (20 px, 0.709) and P-Net/R-Net thresholds (0.6, 0.7). O-Net's threshold is 0.9
 * rather than the paper's 0.7: on afw-dev that halves false positives per image (0.50 → 0.23) for
 * 0.8 points of recall (97.3 % → 96.5 %); `--thresholds 0.6,0.7,0.7` restores the paper's values.
 */
export const DEFAULT_MTCNN: MtcnnOptions = {
  minFaceSize: 20,
  scaleFactor: 0.709,
  thresholds: [0.6, 0.7, 0.9],
  rotations: [],
};

/** The turned passes the app's "tilted faces" setting adds: ±35° (measured in models/README.md). */
export const TILTED_FACE_PASSES: readonly number[] = [-35, 35];

export type Point = [number, number];

export interface Detection {
  /** Corners in pixels of the analysed image. */
  box: Box;
  score: number;
  /** Left eye, right eye, nose, left mouth corner, right mouth corner (as seen in the image). */
  landmarks: Point[];
}

/** How many inferences each network ran (tests and the scan's zero-inference guarantee count these). */
export interface DetectionStats {
  scales: number;
  pnetRuns: number;
  rnetInputs: number;
  onetInputs: number;
  rotatedPasses: number;
}

const normalise = (v: number) => (v - 127.5) * 0.0078125;
const MAX_BATCH = 256;

export class MtcnnDetector {
  readonly options: MtcnnOptions;
  readonly stats: DetectionStats = { scales: 0, pnetRuns: 0, rnetInputs: 0, onetInputs: 0, rotatedPasses: 0 };

  constructor(
    private readonly models: ModelStore,
    options: Partial<MtcnnOptions> = {},
  ) {
    this.options = { ...DEFAULT_MTCNN, ...options };
  }

  async detect(image: PixelImage, sampler: AreaSampler = new AreaSampler(image)): Promise<Detection[]> {
    if (image.channels !== 3) throw new Error(`MTCNN needs 3-channel images, got ${image.channels}`);
    const upright = await this.detectUpright(image, sampler);
    if (this.options.rotations.length === 0) return upright;
    const all = [...upright];
    for (const degrees of this.options.rotations) {
      if (degrees % 360 === 0) continue;
      const turned = rotateImage(image, degrees);
      this.stats.rotatedPasses++;
      for (const d of await this.detectUpright(turned.image, new AreaSampler(turned.image))) {
        all.push(mapBack(d, turned.toSource));
      }
    }
    // The same face found upright and turned: keep the more confident finding.
    const boxes = all.map((d) => ({ ...d.box, score: d.score }));
    return nms(boxes, 0.5, 'min').map((i) => all[i] as Detection);
  }

  private async detectUpright(image: PixelImage, sampler: AreaSampler): Promise<Detection[]> {
    const [t1, t2, t3] = this.options.thresholds;
    const stage1 = await this.proposals(image, sampler, t1);
    if (stage1.length === 0) return [];
    const stage2 = await this.refine(sampler, stage1, t2);
    if (stage2.length === 0) return [];
    return this.output(sampler, stage2, t3);
  }

  /** Stage 1: P-Net over the pyramid. */
  private async proposals(image: PixelImage, sampler: AreaSampler, threshold: number): Promise<ScoredBox[]> {
    const pnet = await this.models.load('pnet');
    const { width, height } = image;
    const all: (ScoredBox & { offsets: Offsets })[] = [];
    const scales = pyramidScales(width, height, this.options.minFaceSize, this.options.scaleFactor);
    this.stats.scales += scales.length;
    // The next level is cut before the current one's run starts: onnxruntime-node defers a run with
    // setImmediate and then runs it on this thread, so the two take turns (bench/stages.ts).
    const level = (scale: number) => {
      const w = Math.ceil(width * scale);
      const h = Math.ceil(height * scale);
      const input = new Float32Array(w * h * 3);
      sampler.crop(0, 0, width, height, w, h, input, 0, normalise, true);
      return new ort.Tensor('float32', input, [1, w, h, 3]);
    };
    let next = scales.length > 0 ? level(scales[0] as number) : undefined;
    for (let k = 0; k < scales.length; k++) {
      const scale = scales[k] as number;
      const running = pnet.session.run({ [pnet.entry.input.name]: next as ort.Tensor });
      next = k + 1 < scales.length ? level(scales[k + 1] as number) : undefined;
      const out = await running;
      this.stats.pnetRuns++;
      const prob = out['prob'] as ort.Tensor;
      const reg = out['regression'] as ort.Tensor;
      const [, mapW, mapH] = prob.dims as number[];
      const candidates = pnetCandidates(
        prob.data as Float32Array,
        reg.data as Float32Array,
        mapW as number,
        mapH as number,
        scale,
        threshold,
        true,
      );
      for (const i of nms(candidates, 0.5, 'union')) all.push(candidates[i] as ScoredBox & { offsets: Offsets });
    }
    return nms(all, 0.7, 'union').map((i) => {
      const c = all[i] as ScoredBox & { offsets: Offsets };
      return fix(square(regress({ x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2, score: c.score }, c.offsets, false)));
    });
  }

  /** Stage 2: R-Net on 24×24 crops. */
  private async refine(sampler: AreaSampler, boxes: ScoredBox[], threshold: number): Promise<ScoredBox[]> {
    const results = await this.runOnCrops('rnet', sampler, boxes, 24);
    this.stats.rnetInputs += boxes.length;
    const passed: (ScoredBox & { offsets: Offsets })[] = [];
    results.forEach((r, i) => {
      if (r.score > threshold) passed.push({ ...(boxes[i] as ScoredBox), score: r.score, offsets: r.offsets });
    });
    return nms(passed, 0.7, 'union').map((i) => {
      const p = passed[i] as ScoredBox & { offsets: Offsets };
      return square(regress({ x1: p.x1, y1: p.y1, x2: p.x2, y2: p.y2, score: p.score }, p.offsets, true));
    });
  }

  /** Stage 3: O-Net on 48×48 crops, landmarks, final NMS by the smaller area. */
  private async output(sampler: AreaSampler, refined: ScoredBox[], threshold: number): Promise<Detection[]> {
    const boxes = refined.map(fix);
    const results = await this.runOnCrops('onet', sampler, boxes, 48);
    this.stats.onetInputs += boxes.length;
    const found: (ScoredBox & { landmarks: Point[] })[] = [];
    results.forEach((r, i) => {
      if (!(r.score > threshold)) return;
      const b = boxes[i] as ScoredBox;
      const w = b.x2 - b.x1 + 1;
      const h = b.y2 - b.y1 + 1;
      const lm = r.landmarks as Float32Array;
      // Relative to the crop, whose first pixel is the 0-based (x1 − 1, y1 − 1).
      const landmarks: Point[] = [0, 1, 2, 3, 4].map((k) => [
        w * (lm[k] as number) + b.x1 - 1,
        h * (lm[k + 5] as number) + b.y1 - 1,
      ]);
      found.push({ ...regress({ ...b, score: r.score }, r.offsets, true), landmarks });
    });
    return nms(found, 0.7, 'min').map((i) => {
      const f = found[i] as ScoredBox & { landmarks: Point[] };
      // 1-based inclusive pixels [x1, x2] → 0-based continuous edges [x1 − 1, x2).
      return { box: { x1: f.x1 - 1, y1: f.y1 - 1, x2: f.x2, y2: f.y2 }, score: f.score, landmarks: f.landmarks };
    });
  }

  /**
   * The pipeline's last stage on boxes given from outside (a face the user drew): O-Net on each box made
   * square, as the detector squares R-Net's boxes, giving five landmarks and O-Net's face score. The box
   * itself is kept as given. Boxes are 0-based continuous pixels of the sampled image.
   */
  async landmarksIn(sampler: AreaSampler, boxes: readonly Box[]): Promise<{ landmarks: Point[]; score: number }[]> {
    // 0-based continuous [x1, x2) → the reference's 1-based inclusive pixels.
    const squared = boxes.map((b) => fix(square({ x1: b.x1 + 1, y1: b.y1 + 1, x2: b.x2, y2: b.y2 })));
    const results = await this.runOnCrops('onet', sampler, squared, 48);
    return results.map((r, i) => {
      const b = squared[i] as Box;
      const w = b.x2 - b.x1 + 1;
      const h = b.y2 - b.y1 + 1;
      const lm = r.landmarks as Float32Array;
      const landmarks: Point[] = [0, 1, 2, 3, 4].map((k) => [
        w * (lm[k] as number) + b.x1 - 1,
        h * (lm[k + 5] as number) + b.y1 - 1,
      ]);
      return { landmarks, score: r.score };
    });
  }

  private async runOnCrops(
    model: 'rnet' | 'onet',
    sampler: AreaSampler,
    boxes: readonly Box[],
    size: number,
  ): Promise<{ score: number; offsets: Offsets; landmarks?: Float32Array }[]> {
    const net = await this.models.load(model);
    const results: { score: number; offsets: Offsets; landmarks?: Float32Array }[] = [];
    const per = size * size * 3;
    for (let start = 0; start < boxes.length; start += MAX_BATCH) {
      const batch = boxes.slice(start, start + MAX_BATCH);
      const input = new Float32Array(batch.length * per);
      batch.forEach((b, k) => {
        sampler.crop(b.x1 - 1, b.y1 - 1, b.x2 - b.x1 + 1, b.y2 - b.y1 + 1, size, size, input, k * per, normalise, true);
      });
      const out = await net.session.run({
        [net.entry.input.name]: new ort.Tensor('float32', input, [batch.length, size, size, 3]),
      });
      const prob = (out['prob'] as ort.Tensor).data as Float32Array;
      const reg = (out['regression'] as ort.Tensor).data as Float32Array;
      const lm = out['landmarks'] ? ((out['landmarks'] as ort.Tensor).data as Float32Array) : undefined;
      for (let k = 0; k < batch.length; k++) {
        const offsets: Offsets = [
          reg[k * 4] as number,
          reg[k * 4 + 1] as number,
          reg[k * 4 + 2] as number,
          reg[k * 4 + 3] as number,
        ];
        results.push({
          score: prob[k * 2 + 1] as number,
          offsets,
          ...(lm ? { landmarks: lm.subarray(k * 10, k * 10 + 10) } : {}),
        });
      }
    }
    return results;
  }
}

/** A face found in a turned image, in the upright image's coordinates (box carried, landmarks mapped). */
function mapBack(d: Detection, toSource: (x: number, y: number) => [number, number]): Detection {
  return { box: carryBox(d.box, toSource), score: d.score, landmarks: d.landmarks.map(([x, y]) => toSource(x, y)) };
}
