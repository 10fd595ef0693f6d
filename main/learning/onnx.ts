/**
 * Heads → ONNX through the deterministic OnnxGraph writer: input 'embedding' [batch, D], one softmax
 * output per task ('age_group', 'gender', 'ethnicity', 'emotion'; label orders of
 * main/engine/attributes/labels.ts, recorded in the model's metadata). The same parameters always give
 * the same bytes (no dates or paths inside).
 */
import onnxProto from 'onnx-proto';
import { OnnxGraph } from './onnx-graph.js';
import { type EmbeddingSpec, TASK_LABELS, TASK_OUTPUTS, type HeadTask } from '../engine/attributes/heads.js';
import { type ModelConfig, type Params, featureDim } from './model.js';

const { onnx } = onnxProto;

export function exportHeadsOnnx(
  config: ModelConfig,
  params: Params,
  metadata: Record<string, string> = {},
): Uint8Array {
  const g = new OnnxGraph('facets_heads');
  const D = config.inputDim;
  const H = config.hidden;
  const F = featureDim(config);
  const input = g.addInput('embedding', ['batch', D]);
  const centred = g.node('Sub', [input, g.addFloat('mean', params.mean, [D])]);
  let h = g.node('Mul', [centred, g.addFloat('inv_std', params.invStd, [D])]);
  if (H > 0) {
    const z = g.node('Gemm', [h, g.addFloat('shared_W', params.W1, [D, H]), g.addFloat('shared_b', params.b1, [H])]);
    h = g.node('Relu', [z]);
  }
  config.tasks.forEach((task, ti) => {
    const name = task.name as HeadTask;
    const K = task.classes;
    if (TASK_LABELS[name].length !== K)
      throw new Error(`task ${name}: ${K} classes, labels.ts has ${TASK_LABELS[name].length}`);
    const logits = g.node('Gemm', [
      h,
      g.addFloat(`${name}_W`, params.W[ti] as Float32Array, [F, K]),
      g.addFloat(`${name}_b`, params.b[ti] as Float32Array, [K]),
    ]);
    const out = TASK_OUTPUTS[name];
    g.node('Softmax', [logits], { axis: 1 }, [out]);
    g.addOutput(out, ['batch', K]);
  });
  const labels = Object.fromEntries(
    config.tasks.map((t) => [TASK_OUTPUTS[t.name as HeadTask], TASK_LABELS[t.name as HeadTask]]),
  );
  return g.toBytes({ labels: JSON.stringify(labels), ...metadata });
}

/** Reads heads parameters back from an ONNX file written by exportHeadsOnnx (the weight unit restarts at zero). */
export function decodeHeadsOnnx(bytes: Uint8Array): { config: ModelConfig; params: Params } {
  const model = onnx.ModelProto.decode(bytes);
  const tensors = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData as Uint8Array;
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    tensors.set(t.name as string, { dims: (t.dims as (number | { toNumber(): number })[]).map(Number), data });
  }
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`heads model has no ${name}`);
    return t;
  };
  const mean = get('mean').data;
  const D = mean.length;
  const shared = tensors.get('shared_W');
  const H = shared ? (shared.dims[1] as number) : 0;
  const outputs = (model.graph?.output ?? []).map((o) => o.name as string);
  const tasks = (Object.keys(TASK_OUTPUTS) as HeadTask[]).filter((t) => outputs.includes(TASK_OUTPUTS[t]));
  const config: ModelConfig = {
    inputDim: D,
    hidden: H,
    tasks: tasks.map((t) => ({ name: t, classes: TASK_LABELS[t].length })),
  };
  const F = featureDim(config);
  return {
    config,
    params: {
      mean,
      invStd: get('inv_std').data,
      W1: shared?.data ?? new Float32Array(0),
      b1: H > 0 ? get('shared_b').data : new Float32Array(0),
      W: tasks.map((t) => get(`${t}_W`).data),
      b: tasks.map((t) => get(`${t}_b`).data),
      V: new Float32Array(F * tasks.length),
      c: new Float32Array(tasks.length),
    },
  };
}

/** The metadata every installed heads file carries: how its input is made, its tasks, the seed. */
export function headsMetadata(
  embedding: EmbeddingSpec,
  tasks: readonly HeadTask[],
  seed: number,
): Record<string, string> {
  const { models, recipe, taskRecipes, flip } = embedding;
  return {
    embedding: JSON.stringify({ models, recipe, ...(taskRecipes ? { taskRecipes } : {}), flip }),
    tasks: JSON.stringify(tasks),
    seed: String(seed),
  };
}
