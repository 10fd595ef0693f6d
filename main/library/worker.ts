/**
 * An analysis worker thread: reads a photo, decodes it once, runs the face networks on it and cuts
 * its thumbnails from the same pixels. Decoding the next photo overlaps inference on the current one
 * (two serial lanes: libvips decodes on libuv's pool while onnxruntime runs its own threads).
 *
 * Plain node:worker_threads, no Electron imports: the same file serves the CLI, web mode and the
 * desktop app's main or utility process.
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { FaceAnalyzer } from '../engine/analyzer.js';
import { DecodeError, type DecodedImage } from '../engine/image/decode.js';
import { ModelStore } from '../engine/sessions.js';
import { modelsDir } from '../paths.js';
import { predictionsOf } from './attributes.js';
import { decodePhoto, readPhotoInput, readableError } from '../engine/image/photos.js';
import { hashBuffer, hashFile } from './hash.js';
import { tooLargeFile } from './limits.js';
import { type PhotoMetadata, readMetadata } from './metadata.js';
import { ThumbnailCache } from './thumbnails.js';
import { describeFsError } from './walker.js';
import type { AnalysisJob, FromWorker, JobResult, PhotoResult, ToWorker, WorkerConfig } from './worker-protocol.js';

if (!parentPort) throw new Error('worker.ts runs as a worker thread');
const port = parentPort;
const config = workerData as WorkerConfig;
const models = new ModelStore(config.modelsDir ?? modelsDir(), {
  ...(config.providers ? { providers: config.providers } : {}),
  intraOpThreads: config.intraOpThreads,
});
// Every scanned face gets its identity vector, and its heads' input where heads run (main/people/).
const analyzer = new FaceAnalyzer(models, { identity: true, ...config.analyzer });
const thumbnails = new ThumbnailCache(config.cacheDir);

/** Runs tasks one at a time, in submission order. */
class SerialLane {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const decodeLane = new SerialLane();
const analyseLane = new SerialLane();

/** What was decoded, and the hash of the bytes actually read (the file may have changed since the scanner hashed it). */
type Decoded = { image: DecodedImage; metadata: PhotoMetadata; hash: string; decodeMs: number } | JobResult;

function post(message: FromWorker): void {
  port.postMessage(message);
}

async function readAndDecode(job: AnalysisJob): Promise<Decoded> {
  const t0 = performance.now();
  // Formats libvips reads are decoded from the path: no file is ever held whole in memory (limits.ts).
  // HEIC and RAW decoders need the bytes, read under the size limit.
  let input: Buffer | string;
  let before: Stats;
  try {
    before = await stat(job.path);
    const tooLarge = tooLargeFile(before.size);
    if (tooLarge) return { id: job.id, outcome: 'unsupported', error: tooLarge, decoded: false };
    if (before.size === 0) return { id: job.id, outcome: 'error', error: 'empty file (0 bytes)', decoded: false };
    input = await readPhotoInput(job.path, job.kind);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { id: job.id, outcome: 'vanished' };
    return { id: job.id, outcome: 'error', error: `cannot read the file: ${describeFsError(err)}`, decoded: false };
  }
  const metadata = await readMetadata(input);
  try {
    const image = await decodePhoto(input, job.kind, config.analyzer.decode ?? {}, metadata.orientation);
    return { image, metadata, hash: await hashOfDecoded(job, input, before), decodeMs: performance.now() - t0 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { id: job.id, outcome: 'vanished' };
    const reason = err instanceof DecodeError ? err.reason : 'unreadable';
    const message = readableError(
      err instanceof DecodeError ? err.message : `cannot decode: ${(err as Error).message}`,
    );
    if (reason === 'too-large') {
      return { id: job.id, outcome: 'unsupported', error: `too large to analyse: ${message}`, decoded: false };
    }
    return { id: job.id, outcome: reason === 'unsupported' ? 'unsupported' : 'error', error: message, decoded: true };
  }
}

/**
 * The hash of what was decoded (it names the thumbnails). Bytes read whole are hashed; a file decoded
 * from its path still has the size and mtime the scanner hashed it at, before and after decoding, so its
 * hash is the scanner's; else it changed meanwhile and is hashed again, streaming.
 */
async function hashOfDecoded(job: AnalysisJob, input: Buffer | string, before: Stats): Promise<string> {
  if (typeof input !== 'string') return hashBuffer(input);
  const after = await stat(job.path);
  const same = (s: Stats) => s.size === job.size && s.mtimeMs === job.mtimeMs;
  return same(before) && same(after) ? job.hash : hashFile(job.path);
}

interface Analysed {
  result: JobResult;
  /** The decoded pixels, for the thumbnails, when analysis succeeded. */
  image?: DecodedImage;
}

async function analyse(job: AnalysisJob, decoded: Decoded): Promise<Analysed> {
  if ('outcome' in decoded) return { result: decoded };
  const { image, metadata, hash, decodeMs } = decoded;
  const t0 = performance.now();
  try {
    const faces = await analyzer.analyzeDecoded(image);
    const photo: PhotoResult = {
      format: image.format,
      width: image.uprightWidth,
      height: image.uprightHeight,
      orientation: image.orientation,
      takenAt: metadata.takenAt,
      camera: metadata.camera,
      faces: faces.map((f) => ({
        box: f.box,
        score: f.score,
        landmarks: f.landmarks.map(([x, y]) => [x, y] as [number, number]),
        quality: {
          faceSize: f.quality.faceSize,
          sharpness: f.quality.sharpness,
          uncertain: f.quality.uncertain,
          reasons: f.quality.reasons,
        },
        predictions: predictionsOf(f),
        vectors: f.vectors ?? [],
      })),
      ...(image.damage ? { damage: image.damage } : {}),
    };
    const analyseMs = performance.now() - t0;
    return { result: { id: job.id, outcome: 'analysed', hash, photo, decodeMs, analyseMs }, image };
  } catch (err) {
    return {
      result: { id: job.id, outcome: 'error', error: `analysis failed: ${(err as Error).message}`, decoded: true },
    };
  }
}

function onJob(job: AnalysisJob): void {
  const decoding = decodeLane.run(() => readAndDecode(job));
  const analysing = analyseLane.run(async () => analyse(job, await decoding));
  // Thumbnails are encoded outside the lanes, so the next inference starts at once; the result is
  // posted (and committed by the scanner) only once they are on disk.
  void analysing
    .then(async ({ result, image }) => {
      if (image && result.outcome === 'analysed') {
        await thumbnails.writeAll(
          result.hash,
          image,
          result.photo.faces.map((f) => f.box),
        );
      }
      return result;
    })
    .then(
      (result) => post({ type: 'result', result }),
      (err: unknown) =>
        post({
          type: 'result',
          result: {
            id: job.id,
            outcome: 'error',
            error: `thumbnails failed: ${(err as Error).message}`,
            decoded: true,
          },
        }),
    );
}

/** Every network up front, so a missing or corrupt model stops the scan before its first photo. */
async function loadModels(): Promise<void> {
  await analyzer.loadAll();
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'job') onJob(message.job);
});

loadModels().then(
  () => post({ type: 'ready' }),
  (err: unknown) => post({ type: 'fatal', error: `cannot load the face analysis models: ${(err as Error).message}` }),
);
