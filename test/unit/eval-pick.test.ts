/** Which detected face stands for an image's label in `facets eval --mode detect --pick largest|central`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickFace } from '../../research/eval/evaluate.js';

const face = (id: string, x: number, y: number, size: number) => ({ id, box: { x, y, width: size, height: size } });

test('largest picks the biggest box; central the one nearest the middle', () => {
  const image = { width: 250, height: 250 };
  // A big face at the edge and the labelled, smaller one in the centre (an LFW-style news photo).
  const faces = [face('edge', 0, 0, 120), face('centre', 95, 95, 60), face('other', 180, 180, 40)];
  assert.equal(pickFace(faces, image, 'largest')?.id, 'edge');
  assert.equal(pickFace(faces, image, 'central')?.id, 'centre');
  assert.equal(pickFace([], image, 'central'), undefined);
});
