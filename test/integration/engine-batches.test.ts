/**
 * The speed changes keep the numbers: embeddings cut into runs of EMBED_BATCH faces equal those of
 * one face per run (each row is its own face's, in order), and a grey network's crop taken in colour
 * then turned to luma equals the crop of the grey photo to within toGrey's rounding. Real models, a
 * photo shipped in a dependency (face-api's demo, 5 faces). Test-time mirroring gives the mean of the
 * network's estimates of the face and of the same face in the photo mirrored.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { EMBED_BATCH, embedFaces } from '../../main/engine/attributes/heads.js';
import { NETWORKS } from '../../main/engine/attributes/networks.js';
import { decodeForAnalysis } from '../../main/engine/image/decode.js';
import { AreaSampler, type PixelImage, toGrey } from '../../main/engine/image/resample.js';
import { type LoadedModel, ModelStore, observeRuns } from '../../main/engine/sessions.js';
import { ROOT } from '../helpers/cli.js';

const PHOTO = path.join(ROOT, 'node_modules', '@vladmandic', 'face-api', 'demo', 'sample5.jpg');

describe('attribute batches', () => {
  const analyzer = new FaceAnalyzer();
  after(() => analyzer.models.release());

  test('embeddings in runs of a few faces equal one face per run, face by face', async () => {
    const image = await decodeForAnalysis(PHOTO);
    const sampler = new AreaSampler(image);
    const found = await analyzer.detector.detect(image, sampler);
    assert.ok(found.length > EMBED_BATCH, `more faces (${found.length}) than one run takes`);
    // Twice the faces, so that runs end inside the list: every row must still be its own face's.
    const faces = [...found, ...found].map((face) => ({ sampler, face }));
    const recipe = { method: 'align', margin: 1, template: 'fairface' } as const;
    for (const network of ['facenet128', 'faceapi-age-gender']) {
      const together = await embedFaces(analyzer.models, network, faces, recipe, true);
      for (const [i, face] of faces.entries()) {
        const alone = await embedFaces(analyzer.models, network, [face], recipe, true);
        for (const [a, b] of [
          [together.plain[i], alone.plain[0]],
          [together.mirrored[i], alone.mirrored[0]],
        ] as const) {
          assert.ok(a && b && a.length === b.length && a.length > 0);
          const worst = Math.max(...Array.from(a, (v, k) => Math.abs(v - (b[k] as number))));
          assert.ok(worst < 1e-3, `${network} face ${i}: differs by ${worst}`);
        }
      }
    }
  });

  test("a grey network's input from the colour photo matches the grey photo's crop", async () => {
    const image = await decodeForAnalysis(PHOTO);
    const sampler = new AreaSampler(image);
    const faces = await analyzer.detector.detect(image, sampler);
    const network = NETWORKS['emotion'];
    assert.ok(network?.grey);
    const fromColour = await analyzer.runNetwork(network, sampler, faces);
    const fromGrey = await analyzer.runNetwork(network, new AreaSampler(toGrey(image)), faces);
    assert.equal(fromColour.length, faces.length);
    for (const [i, colour] of fromColour.entries()) {
      const grey = fromGrey[i]?.emotion;
      assert.ok(colour.emotion && grey);
      assert.equal(colour.emotion.label, grey.label, `face ${i}`);
      for (const [label, p] of Object.entries(colour.emotion.probabilities)) {
        const q = grey.probabilities[label as keyof typeof grey.probabilities];
        assert.ok(Math.abs(p - q) < 0.02, `face ${i} ${label}: ${p} vs ${q}`);
      }
    }
  });

  test('test-time mirroring averages the estimates of the face and of the mirrored photo', async () => {
    const image = await decodeForAnalysis(PHOTO);
    const sampler = new AreaSampler(image);
    const faces = await analyzer.detector.detect(image, sampler);
    const mirroredImage = mirrorImage(image);
    const mirroredSampler = new AreaSampler(mirroredImage);
    // Box crops: the mirrored photo's crop is then exactly the mirrored crop (an aligned crop would also
    // swap which eye is which).
    const boxed = faces.map((f) => ({ ...f, landmarks: [] }));
    const mirroredFaces = boxed.map((f) => ({
      ...f,
      box: { ...f.box, x1: image.width - f.box.x2, x2: image.width - f.box.x1 },
    }));
    const withMirror = new FaceAnalyzer(analyzer.models, { mirror: true });
    const without = new FaceAnalyzer(analyzer.models, { mirror: false });
    for (const name of ['emotion', 'faceapi-expression']) {
      const network = NETWORKS[name];
      assert.ok(network?.mirror, `${name} is mirrored at run time`);
      const both = await withMirror.runNetwork(network, sampler, boxed);
      const plain = await without.runNetwork(network, sampler, boxed);
      const mirror = await without.runNetwork(network, mirroredSampler, mirroredFaces);
      let moved = 0;
      for (const [i, b] of both.entries()) {
        const [p, m, e] = [plain[i]?.emotion, mirror[i]?.emotion, b.emotion];
        assert.ok(p && m && e);
        assert.equal(e.model.name, network.model, 'the estimate names the one network');
        for (const [label, v] of Object.entries(e.probabilities)) {
          const key = label as keyof typeof p.probabilities;
          const mean = (p.probabilities[key] + m.probabilities[key]) / 2;
          assert.ok(Math.abs(v - mean) < 1e-3, `${name} face ${i} ${label}: ${v} vs mean ${mean}`);
          moved = Math.max(moved, Math.abs(v - p.probabilities[key]));
        }
      }
      assert.ok(moved > 1e-3, `${name}: mirroring changed some estimate (by up to ${moved})`);
    }
  });
});

/** A model store that counts the runs of each model's session. */
class CountingStore extends ModelStore {
  readonly runs = new Map<string, number>();

  override load(name: string): Promise<LoadedModel> {
    return super
      .load(name)
      .then((loaded) => observeRuns(loaded, () => this.runs.set(name, (this.runs.get(name) ?? 0) + 1)));
  }
}

describe('shared runs', () => {
  const store = new CountingStore();
  after(() => store.release());

  test("face-api's age/gender network serves from the heads' embedding run, as it does alone", async () => {
    const image = await decodeForAnalysis(PHOTO);
    const sampler = new AreaSampler(image);
    const shared = new FaceAnalyzer(store, {
      assignment: { age: 'heads', gender: 'faceapi-age-gender', ethnicity: null, emotion: null },
    });
    const faces = await shared.detector.detect(image, sampler);
    assert.ok(faces.length > EMBED_BATCH);
    store.runs.clear();
    const together = await shared.attributes(image, sampler, faces);
    // One run per EMBED_BATCH faces, for the heads and gender alike (not one more per face).
    assert.equal(store.runs.get('faceapi-age-gender'), Math.ceil(faces.length / EMBED_BATCH));
    const alone = await new FaceAnalyzer(store, {
      assignment: { age: null, gender: 'faceapi-age-gender', ethnicity: null, emotion: null },
    }).attributes(image, sampler, faces);
    for (const [i, a] of together.entries()) {
      const [g, h] = [a.gender, alone[i]?.gender];
      assert.ok(g && h && a.age, `face ${i}`);
      assert.equal(g.label, h.label, `face ${i}`);
      assert.ok(Math.abs(g.probability - h.probability) < 1e-3, `face ${i}: ${g.probability} vs ${h.probability}`);
      assert.equal(g.model.name, 'faceapi-age-gender');
    }
  });
});

function mirrorImage(image: PixelImage): PixelImage {
  const { width, height, channels } = image;
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        data[(y * width + x) * channels + c] = image.data[(y * width + (width - 1 - x)) * channels + c] as number;
      }
    }
  }
  return { ...image, data };
}
