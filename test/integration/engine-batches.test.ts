/**
 * The speed changes keep the numbers: embeddings cut into runs of EMBED_BATCH faces equal those of
 * one face per run (each row is its own face's, in order), and a grey network's crop taken in colour
 * then turned to luma equals the crop of the grey photo to within toGrey's rounding. Real models, a
 * photo shipped in a dependency (face-api's demo, 5 faces).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FaceAnalyzer } from '../../main/engine/analyzer.js';
import { EMBED_BATCH, embedFaces } from '../../main/engine/attributes/heads.js';
import { NETWORKS } from '../../main/engine/attributes/networks.js';
import { decodeForAnalysis } from '../../main/engine/image/decode.js';
import { AreaSampler, toGrey } from '../../main/engine/image/resample.js';
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
});
