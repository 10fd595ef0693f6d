/**
 * Where Facets' time goes: every onnxruntime session run is timed and charged to its model (the
 * ModelStore's sessions by name, any other session — the heads — as 'heads'). The rest of a photo's
 * analysis (pyramid levels and crops cut in JavaScript, NMS, decoding the outputs) is what remains.
 *
 * What is timed is the native run itself, not the promise: onnxruntime-node defers each run with
 * setImmediate and then runs it synchronously, so runs the engine starts together (two emotion
 * networks, a face and its mirror) queue one after another, and a promise's span would also cover
 * every run queued before it — the same milliseconds charged to several models.
 */
import ort from 'onnxruntime-node';
import { ModelStore } from '../main/engine/sessions.js';

const names = new WeakMap<object, string>();
/** Each handler's session: a session is named once it is loaded, after its first runs (an int8 check). */
const sessionOf = new WeakMap<object, object>();
const spent = new Map<string, number>();
const patchedHandlers = new WeakSet<object>();

type Run = (...args: unknown[]) => Promise<unknown>;

function charge(name: string, ms: number): void {
  spent.set(name, (spent.get(name) ?? 0) + ms);
}

/**
 * Patches one session handler's prototype so that the callback its run defers (the native run) is
 * timed. The handler schedules that callback with setImmediate while its run() executes, so setImmediate
 * is swapped for a timing wrapper only during that synchronous call.
 */
function patchHandler(handler: { run: Run }): void {
  const proto = Object.getPrototypeOf(handler) as { run: Run };
  if (patchedHandlers.has(proto)) return;
  patchedHandlers.add(proto);
  const run = proto.run;
  proto.run = function (this: object, ...args: unknown[]) {
    const session = sessionOf.get(this);
    const name = (session && names.get(session)) ?? 'heads';
    const original = globalThis.setImmediate;
    globalThis.setImmediate = ((cb: (...a: unknown[]) => void, ...rest: unknown[]) =>
      original(
        (...a: unknown[]) => {
          const t0 = performance.now();
          try {
            cb(...a);
          } finally {
            charge(name, performance.now() - t0);
          }
        },
        ...rest,
      )) as typeof setImmediate;
    try {
      return run.apply(this, args);
    } finally {
      globalThis.setImmediate = original;
    }
  };
}

let installed = false;

/** Patches InferenceSession.run once for the process (benchmark only). */
export function timeSessions(): void {
  if (installed) return;
  installed = true;
  const proto = (ort.InferenceSession as unknown as { prototype: unknown }).prototype as {
    run: Run;
    handler?: { run: Run };
  };
  const run = proto.run;
  proto.run = function (this: { handler?: { run: Run } }, ...args: unknown[]) {
    const handler = this.handler;
    if (handler) {
      sessionOf.set(handler, this);
      patchHandler(handler);
    }
    return run.apply(this, args);
  };
}

/** A ModelStore whose sessions are named for the timings, by the build that runs (faceres-uint8 where int8 falls back). */
export class TimedModelStore extends ModelStore {
  override load(name: string): ReturnType<ModelStore['load']> {
    const pending = super.load(name);
    void pending.then(
      (m) => names.set(m.session, m.entry.name),
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
