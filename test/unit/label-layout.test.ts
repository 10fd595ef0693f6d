/** The viewer's label placement: inside the photo, never over another label, collapsed when crowded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LabelRequest, placeLabels } from '../../renderer/src/lib/label-layout.js';
import { random } from '../helpers/library-synthetic.js';

function check(labels: LabelRequest[], width: number, height: number) {
  const places = placeLabels(labels, width, height);
  assert.equal(places.size, labels.length);
  const shown = labels.flatMap((l) => {
    const p = places.get(l.id);
    assert.ok(p);
    assert.ok(p.x >= 0 && p.y >= 0, `${l.id} inside (top left)`);
    assert.ok(p.x + Math.min(l.width, width) <= width + 0.5 && p.y + l.height <= height + 0.5, `${l.id} inside`);
    return p.collapsed ? [] : [{ ...p, width: l.width, height: l.height, id: l.id }];
  });
  for (const a of shown)
    for (const b of shown)
      if (a.id < b.id)
        assert.ok(
          a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y,
          `labels ${a.id} and ${b.id} overlap`,
        );
  return places;
}

test('a face at the top edge gets its label below or inside, not cut off', () => {
  const places = check([{ id: 1, box: { x: 10, y: 0, width: 80, height: 90 }, width: 120, height: 22 }], 400, 300);
  assert.equal(places.get(1)?.collapsed, false);
  assert.ok((places.get(1)?.y ?? -1) >= 0);
});

test('a face at the right edge keeps its label inside the photo', () => {
  const places = check([{ id: 1, box: { x: 370, y: 100, width: 30, height: 30 }, width: 150, height: 22 }], 400, 300);
  assert.equal(places.get(1)?.x, 250);
});

test('a row of touching faces (a group photo): no two labels overlap; the crowd collapses rather than piles up', () => {
  const row = Array.from({ length: 12 }, (_, i) => ({
    id: i + 1,
    box: { x: i * 33, y: 120, width: 32, height: 40 },
    width: 130,
    height: 22,
  }));
  const places = check(row, 400, 300);
  assert.ok(
    [...places.values()].some((p) => p.collapsed),
    'twelve 130 px labels over 400 px cannot all show',
  );
  assert.ok([...places.values()].filter((p) => !p.collapsed).length >= 4);
});

test('random crowds: always inside, never overlapping', () => {
  const rnd = random(3);
  for (let n = 0; n < 200; n++) {
    const W = 200 + rnd() * 1200;
    const H = 200 + rnd() * 900;
    const labels = Array.from({ length: 1 + Math.floor(rnd() * 25) }, (_, i) => {
      const w = 10 + rnd() * 150;
      return {
        id: i,
        box: { x: rnd() * (W - w), y: rnd() * (H - w), width: w, height: w * 1.2 },
        width: 60 + rnd() * 140,
        height: 22,
      };
    });
    check(labels, W, H);
  }
});
