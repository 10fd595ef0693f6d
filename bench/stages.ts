/**
 * Where Facets' time goes: every onnxruntime session run is timed and charged to its model (the
 * ModelStore's sessions by name, any other session — the heads — as 'heads'). The rest of a photo's
 * analysis (pyramid levels and crops cut in JavaScript, NMS, decoding the outputs) is what remains.
 */
import ort from 'onnxruntime-node';
import { ModelStore } from '../main/engine/sessions.js';

const names = new WeakMap<object, string>();
const spent = new Map<string, number>();
let installed = false;

/** Patches InferenceSession.run once for the process (benchmark only). */
export function timeSessions(): void {
  if (installed) return;
  installed = true;
  const proto = (ort.InferenceSession as unknown as { prototype: unknown }).prototype as {
    run: (...args: unknown[]) => Promise<unknown>;
  };
  const run = proto.run;
  proto.run = async function (this: object, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return await run.apply(this, args);
    } finally {
      const name = names.get(this) ?? 'heads';
      spent.set(name, (spent.get(name) ?? 0) + performance.now() - t0);
    }
  };
}

/** A ModelStore whose sessions are named for the timings. */
export class TimedModelStore extends ModelStore {
  override load(name: string): ReturnType<ModelStore['load']> {
    const pending = super.load(name);
    void pending.then(
      (m) => names.set(m.session, name),
      () => undefined,
    );
    return pending;
  }
}

/** The time charged to each model since the last call, then reset. */
export function takeSessionTimes(): Map<string, number> {
  const copy = new Map(spent);
  spent.clear();
  return copy;
}
