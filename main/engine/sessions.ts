/**
 * The one place Facets creates onnxruntime inference sessions: one cached session per model,
 * execution providers tried in order (CUDA, DirectML, CoreML, then CPU) with a clean fallback, and a
 * record of the provider each model actually runs on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import './no-telemetry.js'; // before any session: [Note: onnxruntime telemetry]
import ort from 'onnxruntime-node';
import { type Manifest, type ModelEntry, findModel, readManifest } from './manifest.js';
import { modelsDir } from '../paths.js';

export type Provider = 'cuda' | 'dml' | 'coreml' | 'cpu';
export const PROVIDER_ORDER: readonly Provider[] = ['cuda', 'dml', 'coreml', 'cpu'];

export interface SessionOptions {
  /** Providers to try, in order; CPU is always the last resort. Default: FACETS_PROVIDERS or all. */
  providers?: Provider[];
  /** onnxruntime intra-op threads per session (0 = onnxruntime's default). Default: FACETS_THREADS or 0. */
  intraOpThreads?: number;
}

export interface LoadedModel {
  entry: ModelEntry;
  session: ort.InferenceSession;
  provider: Provider;
  /** Why providers earlier in the order were skipped. */
  fallbacks: string[];
}

/**
 * Providers the installed onnxruntime-node can offer on this platform. A provider that is not bundled
 * (CUDA: its libraries are an opt-in download, see README) counts only when its library is present,
 * so machines without it never pay for, or log, a failed attempt.
 */
export function availableProviders(): Provider[] {
  const backends = ort.listSupportedBackends();
  return PROVIDER_ORDER.filter((p) => {
    if (p === 'cpu') return true;
    const backend = backends.find((b) => b.name === p);
    if (!backend) return false;
    return backend.bundled || existsSync(path.join(ortBinaryDir(), providerLibrary(p)));
  });
}

function ortBinaryDir(): string {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

function providerLibrary(provider: Provider): string {
  if (process.platform === 'win32') return `onnxruntime_providers_${provider}.dll`;
  return `libonnxruntime_providers_${provider}.${process.platform === 'darwin' ? 'dylib' : 'so'}`;
}

export function parseProviders(value: string | undefined): Provider[] | undefined {
  if (!value) return undefined;
  const list = value.split(',').map((s) => s.trim().toLowerCase());
  for (const p of list) {
    if (!(PROVIDER_ORDER as readonly string[]).includes(p)) {
      throw new Error(`unknown execution provider "${p}" (choose from ${PROVIDER_ORDER.join(', ')})`);
    }
  }
  return list as Provider[];
}

export class ModelStore {
  private readonly sessions = new Map<string, Promise<LoadedModel>>();
  /** The float model's outputs on the int8 probe, by model and provider: computed once for every build checked. */
  private readonly probeOutputs = new Map<string, Promise<Record<string, Float32Array>>>();
  private manifestCache: Manifest | undefined;

  constructor(
    private readonly dir: string = modelsDir(),
    private readonly options: SessionOptions = {},
  ) {}

  get manifest(): Manifest {
    return (this.manifestCache ??= readManifest(this.dir));
  }

  entry(name: string): ModelEntry {
    return findModel(this.manifest, name);
  }

  file(name: string): string {
    return path.join(this.dir, this.entry(name).file);
  }

  /** The cached session for a model, created on first use. */
  load(name: string): Promise<LoadedModel> {
    let pending = this.sessions.get(name);
    if (!pending) {
      pending = this.create(name);
      this.sessions.set(name, pending);
      pending.catch(() => this.sessions.delete(name));
    }
    return pending;
  }

  /** Providers of the sessions created so far. */
  async loaded(): Promise<LoadedModel[]> {
    return Promise.all(this.sessions.values());
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const m of await Promise.allSettled(all)) {
      if (m.status === 'fulfilled') await m.value.session.release();
    }
  }

  private async create(name: string): Promise<LoadedModel> {
    const entry = this.entry(name);
    const bytes = this.verifiedBytes(entry);
    const wanted = this.options.providers ?? parseProviders(process.env['FACETS_PROVIDERS']) ?? [...PROVIDER_ORDER];
    const order = [...wanted.filter((p) => p !== 'cpu'), 'cpu' as const];
    const available = new Set(availableProviders());
    const threads = this.options.intraOpThreads ?? Number(process.env['FACETS_THREADS'] ?? 0);
    const fallbacks: string[] = [];
    for (const provider of order) {
      if (!available.has(provider)) {
        fallbacks.push(`${provider}: not in this onnxruntime build`);
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(bytes, {
          executionProviders: [provider],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          // Idle inference threads sleep instead of spinning: resampling and decoding run on other threads
          // at the same time (and the UI beside them), and on 2 cores spinning threads starved them —
          // measured: detection 1.3× faster without spinning.
          extra: { session: { intra_op: { allow_spinning: '0' } } },
          // [Note: session memory] No memory arena and no memory patterns, for every network. P-Net sees a
          // new input shape at every pyramid level of every photo, R-Net and O-Net a new batch size, and
          // the face networks a new batch at the end of every photo: an arena keeps the largest block each
          // has needed and memory patterns plan (and cache) one block per shape. Measured 2026-12-04 (2
          // cores, 200 photos at 1920×1280 through `facets scan`, 2 workers): with the arena for the face
          // networks and patterns for all, 4.57–4.73 photos/s at 1.25–1.31 GB peak RSS; with neither,
          // 4.73–4.96 photos/s at 0.96–1.03 GB. A 768×512 P-Net level of a real photo: 71 ms with
          // patterns, 57–59 without (bench note in README "Performance").
          enableCpuMemArena: false,
          enableMemPattern: false,
        });
        if (entry.quantized) {
          const disagreement = await this.int8Disagreement(entry, session, provider);
          if (disagreement !== undefined) {
            await session.release();
            // The next build to try: another storage of the same integers, else the float model.
            const tried = entry.quantized.otherwise ?? entry.quantized.from;
            const next = await this.create(tried);
            return { ...next, fallbacks: [...fallbacks, `int8: ${disagreement}; runs ${tried}`, ...next.fallbacks] };
          }
        }
        return { entry, session, provider, fallbacks };
      } catch (err) {
        fallbacks.push(`${provider}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(`model ${name}: no execution provider could load it (${fallbacks.join('; ')})`);
  }

  /** A model file's bytes, refused when missing or when its sha256 is not the manifest's. */
  private verifiedBytes(entry: ModelEntry): Buffer {
    const file = path.join(this.dir, entry.file);
    if (!existsSync(file)) {
      throw new Error(
        `model ${entry.name}: ${file} is missing — run the setup command (npm run setup) to build the models`,
      );
    }
    const bytes = readFileSync(file);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.sha256) {
      throw new Error(
        `model ${entry.name}: ${file} has sha256 ${digest}, expected ${entry.sha256} — rebuild with npm run models`,
      );
    }
    return bytes;
  }

  /**
   * [Note: int8 models] An int8 model runs only where it computes what its float model computes: on x86
   * CPUs without VNNI, onnxruntime's uint8 × int8 products can saturate. Where it does not, the build
   * its manifest entry names as `otherwise` is tried (faceres-uint8: the same integers stored as uint8,
   * which onnxruntime widens before multiplying), then the float model. Both run once on a fixed probe
   * image; a relative difference above INT8_TOLERANCE in any output is returned (undefined: they agree).
   */
  private async int8Disagreement(
    entry: ModelEntry,
    session: ort.InferenceSession,
    provider: Provider,
  ): Promise<string | undefined> {
    const from = entry.quantized?.from ?? '';
    const feeds = { [entry.input.name]: probeInput(entry) };
    const key = `${from}|${provider}|${entry.input.name}`;
    let pending = this.probeOutputs.get(key);
    if (!pending) {
      pending = this.floatProbe(from, provider, feeds);
      this.probeOutputs.set(key, pending);
      pending.catch(() => this.probeOutputs.delete(key));
    }
    const [a, b] = [await pending, await session.run(feeds)];
    for (const [name, x] of Object.entries(a)) {
      const y = b[name]?.data as Float32Array | undefined;
      if (!y || y.length !== x.length) return `no ${name} output like the float model's`;
      const relative = relativeDifference(x, y);
      if (!(relative <= INT8_TOLERANCE)) return `${name} differs from the float model's by ${relative.toFixed(3)}`;
    }
    return undefined;
  }

  /** The float model's outputs on the probe, from a session of its own released at once. */
  private async floatProbe(
    name: string,
    provider: Provider,
    feeds: Record<string, ort.Tensor>,
  ): Promise<Record<string, Float32Array>> {
    const float = await ort.InferenceSession.create(this.verifiedBytes(this.entry(name)), {
      executionProviders: [provider],
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    try {
      const out = await float.run(feeds);
      return Object.fromEntries(float.outputNames.map((n) => [n, out[n]?.data as Float32Array]));
    } finally {
      await float.release();
    }
  }
}

/** ‖x − y‖ / ‖x‖ (L2): how far a quantised model's output `y` is from its float model's `x`. */
export function relativeDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let err = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    err += ((x[i] as number) - (y[i] as number)) ** 2;
    norm += (x[i] as number) ** 2;
  }
  return Math.sqrt(err / Math.max(norm, 1e-12));
}

/**
 * Largest relative (L2) difference allowed between an int8 model's outputs and its float model's on the
 * probe. Measured on a CPU with VNNI (where int8 keeps accuracy, models/README.md): faceres-int8's
 * descriptor differs by 0.17 on the probe, its gender and age outputs by under 0.02; on 80 real faces of
 * 40 px and more the descriptor differs by 0.14 (median), 0.29 at most.
 */
export const INT8_TOLERANCE = 0.3;

/**
 * The loaded model with `onRun(feeds)` called before each of its runs: for tools that watch what the
 * engine feeds a network (`facets models calibrate`, tests counting runs), never for the engine itself.
 */
export function observeRuns(loaded: LoadedModel, onRun: (feeds: Record<string, ort.Tensor>) => void): LoadedModel {
  const session = new Proxy(loaded.session, {
    get(target, key, receiver) {
      if (key !== 'run') return Reflect.get(target, key, receiver) as unknown;
      return (feeds: Record<string, ort.Tensor>, ...rest: unknown[]) => {
        onRun(feeds);
        return (target.run as (...a: unknown[]) => Promise<unknown>).call(target, feeds, ...rest);
      };
    },
  });
  return { ...loaded, session };
}

/** A fixed, smooth, face-sized image in 0..255 (NHWC, batch 1) for the int8 check. */
export function probeInput(entry: ModelEntry): ort.Tensor {
  const [, h, w, c] = entry.input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) as number[];
  const [height, width, channels] = [h as number, w as number, c as number];
  const data = new Float32Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const r = Math.hypot((x - width / 2) / width, (y - height / 2) / height);
      for (let k = 0; k < channels; k++) {
        const v = 150 - 160 * r * r + 35 * Math.sin(x / 6 + k) * Math.cos(y / 9) + 20 * Math.sin((x * y) / 97);
        data[(y * width + x) * channels + k] = Math.min(255, Math.max(0, v));
      }
    }
  }
  return new ort.Tensor('float32', data, [1, height, width, channels]);
}
