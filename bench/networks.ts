/**
 * `node --import tsx bench/networks.ts [--threads n] [--faces n] [--networks a,b:model]`: milliseconds per face of each
 * attribute network the default analysis runs, by batch size, with the engine's session options
 * ([Note: session memory] in main/engine/sessions.ts). The measurement behind ATTRIBUTE_BATCH in analyzer.ts.
 */
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { NETWORKS } from '../main/engine/attributes/networks.js';
import { ModelStore } from '../main/engine/sessions.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    faces: { type: 'string', default: '24' },
    networks: { type: 'string', default: 'faceres,faceapi-age-gender,facenet128,emotion' },
    batches: { type: 'string', default: '1,2,4,8,24' },
  },
});
const faces = Number(values.faces);
const models = new ModelStore(undefined, { intraOpThreads: Number(values.threads), providers: ['cpu'] });

// `network:model` runs a network's crops through another build of it (e.g. faceres:faceres, the float
// model beside the int8 one that serves).
for (const spec of values.networks.split(',')) {
  const [name = '', model] = spec.split(':');
  const network = NETWORKS[name];
  if (!network) throw new Error(`unknown network ${name}`);
  const loaded = await models.load(model ?? network.model);
  const channels = network.grey ? 1 : 3;
  const per = network.size * network.size * channels;
  // Batch sizes interleaved round by round, so that the machine's load hits them alike.
  const batches = values.batches.split(',').map(Number);
  const runs = batches.map((batch) => {
    const input = new Float32Array(per * batch).map(() => Math.random());
    const tensor = new ort.Tensor('float32', input, [batch, network.size, network.size, channels]);
    return async () => {
      const t0 = performance.now();
      for (let done = 0; done < faces; done += batch) await loaded.session.run({ [loaded.entry.input.name]: tensor });
      return (performance.now() - t0) / (Math.ceil(faces / batch) * batch);
    };
  });
  for (const run of runs) await run();
  const samples: number[][] = batches.map(() => []);
  for (let round = 0; round < 5; round++) {
    for (const [i, run] of runs.entries()) samples[i]?.push(await run());
  }
  const row = batches.map((batch, i) => {
    const s = (samples[i] as number[]).sort((a, b) => a - b);
    return `batch ${batch}: ${(s[2] as number).toFixed(2)} ms/face`;
  });
  process.stdout.write(`${`${name} (${loaded.entry.name})`.padEnd(34)} ${network.size}px ${row.join('  ')}\n`);
}
await models.release();
