/** Messages between the scanner's worker pool (main thread) and its analysis workers. */
import type { AnalyzerOptions, FaceBox } from '../engine/analyzer.js';
import type { Provider } from '../engine/sessions.js';
import type { PredictionRow } from './attributes.js';
import type { PhotoKind } from '../engine/image/formats.js';

export interface WorkerConfig {
  /** Models folder (default: the engine's, i.e. FACETS_MODELS_DIR or the package's). */
  modelsDir?: string;
  providers?: Provider[];
  /** onnxruntime intra-op threads per session in this worker. */
  intraOpThreads: number;
  analyzer: Partial<AnalyzerOptions>;
  /** Thumbnail cache folder. */
  cacheDir: string;
}

export interface AnalysisJob {
  id: number;
  path: string;
  kind: PhotoKind;
  /** Content hash as the scanner computed it, of the file at this size and mtime. */
  hash: string;
  size: number;
  mtimeMs: number;
}

export interface FaceResult {
  box: FaceBox;
  score: number;
  landmarks: [number, number][];
  quality: { faceSize: number; sharpness: number; uncertain: boolean; reasons: string[] };
  predictions: PredictionRow[];
  /** The face's vectors per embedding spec (identity, heads' input): stored in face_embeddings. */
  vectors?: { spec: string; vector: Float32Array }[];
}

export interface PhotoResult {
  format: string;
  /** Upright full-resolution size. */
  width: number;
  height: number;
  orientation: number;
  takenAt: string | null;
  camera: string | null;
  faces: FaceResult[];
  /** The file is damaged but was decoded and analysed ([Note: damaged JPEGs]): why. */
  damage?: string;
}

export type JobResult =
  /** `hash`: of the bytes analysed (it names the thumbnails), which differs from the job's if the file changed meanwhile. */
  | { id: number; outcome: 'analysed'; hash: string; photo: PhotoResult; decodeMs: number; analyseMs: number }
  /** The file could not be used: recorded on the photo, shown to the user. */
  | { id: number; outcome: 'error' | 'unsupported'; error: string; decoded: boolean }
  /** The file disappeared before the worker could read it. */
  | { id: number; outcome: 'vanished' };

export type ToWorker = { type: 'job'; job: AnalysisJob };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; result: JobResult }
  /** The worker cannot analyse anything (models missing, provider broken): the scan stops. */
  | { type: 'fatal'; error: string };
