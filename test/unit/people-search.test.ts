import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatFilter, parseSearch } from '../../renderer/src/lib/search.js';

const people = [
  { id: 3, name: 'Anna' },
  { id: 7, name: 'Anna Berg' },
  { id: 9, name: null },
];

describe('search: people names', () => {
  test('a name, a quoted name and person:<id> select people, with other words', () => {
    assert.deepEqual(parseSearch('anna happy 2019', { people }).filter, {
      emotions: ['happy'],
      people: [3],
      takenFrom: '2019-01-01',
      takenTo: '2019-12-31',
    });
    assert.deepEqual(parseSearch('"Anna Berg"', { people }).filter, { people: [7] });
    assert.deepEqual(parseSearch('person:9 person:anna', { people }).filter, { people: [9, 3] });
    assert.deepEqual(parseSearch('Bob', { people }).unknown, ['Bob']);
  });

  test('written back as names (quoted when they have spaces), unnamed ones by id', () => {
    const text = formatFilter({ emotions: ['sad'], people: [7, 9] }, { people });
    assert.equal(text, 'sad "Anna Berg" person:9');
    assert.deepEqual(parseSearch(text, { people }).filter, { emotions: ['sad'], people: [7, 9] });
  });
});
