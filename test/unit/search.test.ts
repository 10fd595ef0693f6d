import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Filter } from '../../main/api/contract.js';
import { dateSpan, formatFilter, isEmptyFilter, parseSearch, tokenize } from '../../renderer/src/lib/search.js';

const parse = (text: string, hideEthnicity = false) => parseSearch(text, { hideEthnicity });

describe('search: words to filters', () => {
  test('the examples from the issue', () => {
    assert.deepEqual(parse('happy 20-29 asian'), {
      filter: { emotions: ['happy'], ageGroups: ['20-29'], ethnicities: ['asian'] },
      unknown: [],
    });
    assert.deepEqual(parse('female 30s').filter, { genders: ['female'], ageGroups: ['30-39'] });
    assert.deepEqual(parse('sad -corrected').filter, { emotions: ['sad'], corrected: 'uncorrected' });
  });

  test('empty and blank text give an empty filter', () => {
    for (const text of ['', '   ', '\t\n']) {
      const r = parse(text);
      assert.deepEqual(r, { filter: {}, unknown: [] });
      assert.ok(isEmptyFilter(r.filter));
    }
  });

  test('words of one kind are alternatives, kept in label order', () => {
    assert.deepEqual(parse('sad HAPPY').filter, { emotions: ['happy', 'sad'] });
    assert.deepEqual(parse('women men').filter, {}, 'both genders is no restriction');
    assert.deepEqual(parse('black white').filter, { ethnicities: ['white', 'black'] });
    assert.deepEqual(parse('happy happy').filter, { emotions: ['happy'] });
  });

  test('synonyms', () => {
    assert.deepEqual(parse('smiling').filter, { emotions: ['happy'] });
    assert.deepEqual(parse('scared shocked calm mad disgusted').filter, {
      emotions: ['angry', 'disgust', 'fear', 'surprise', 'neutral'],
    });
    assert.deepEqual(parse('woman').filter, { genders: ['female'] });
    assert.deepEqual(parse('man').filter, { genders: ['male'] });
    assert.deepEqual(parse('caucasian').filter, { ethnicities: ['white'] });
    assert.deepEqual(parse('baby').filter, { ageGroups: ['0-2'] });
    assert.deepEqual(parse('kids').filter, { ageGroups: ['3-9'] });
    assert.deepEqual(parse('teens').filter, { ageGroups: ['10-19'] });
    assert.deepEqual(parse('elderly').filter, { ageGroups: ['60-69', '70+'] });
    assert.deepEqual(parse('girls').filter, { genders: ['female'], ageGroups: ['0-2', '3-9', '10-19'] });
  });

  test('ages: groups, decades, ranges, open ends, single ages', () => {
    assert.deepEqual(parse('20-29').filter, { ageGroups: ['20-29'] });
    assert.deepEqual(parse('0-2').filter, { ageGroups: ['0-2'] });
    assert.deepEqual(parse('70+').filter, { ageGroups: ['70+'] });
    assert.deepEqual(parse("20's").filter, { ageGroups: ['20-29'] });
    assert.deepEqual(parse('80s').filter, { ageGroups: ['70+'] });
    assert.deepEqual(parse('25-45').filter, { ageGroups: ['20-29', '30-39', '40-49'] });
    assert.deepEqual(parse('50+').filter, { ageGroups: ['50-59', '60-69', '70+'] });
    assert.deepEqual(parse('35').filter, { ageGroups: ['30-39'] });
    assert.deepEqual(parse('<10').filter, { ageGroups: ['0-2', '3-9'] });
    assert.deepEqual(parse('>59').filter, { ageGroups: ['60-69', '70+'] });
    assert.deepEqual(parse('age:teen').filter, { ageGroups: ['10-19'] });
    assert.deepEqual(parse('30s 40s').filter, { ageGroups: ['30-39', '40-49'] });
  });

  test('exclusions take the complement, or narrow what was included', () => {
    assert.deepEqual(parse('-happy').filter, { emotions: ['angry', 'disgust', 'fear', 'sad', 'surprise', 'neutral'] });
    assert.deepEqual(parse('happy sad -sad').filter, { emotions: ['happy'] });
    assert.deepEqual(parse('-male').filter, { genders: ['female'] });
    assert.deepEqual(parse('-20-29 -30s').filter.ageGroups, ['0-2', '3-9', '10-19', '40-49', '50-59', '60-69', '70+']);
    assert.deepEqual(parse('-corrected').filter, { corrected: 'uncorrected' });
    assert.deepEqual(parse('-uncorrected').filter, { corrected: 'corrected' });
    assert.deepEqual(parse('corrected').filter, { corrected: 'corrected' });
    assert.deepEqual(parse('is:corrected').filter, { corrected: 'corrected' });
    assert.deepEqual(parse('-is:corrected').filter, { corrected: 'uncorrected' });
  });

  test('explicit key:value forms', () => {
    assert.deepEqual(parse('emotion:surprise gender:female ethnicity:other age:60-69').filter, {
      emotions: ['surprise'],
      genders: ['female'],
      ethnicities: ['other'],
      ageGroups: ['60-69'],
    });
    assert.deepEqual(parse('Emotion:Happy').filter, { emotions: ['happy'] });
    assert.deepEqual(parse('-emotion:neutral').filter.emotions?.length, 6);
  });

  test('number of faces', () => {
    assert.deepEqual(parse('faces:2').filter, { minFaces: 2, maxFaces: 2 });
    assert.deepEqual(parse('faces:3+').filter, { minFaces: 3 });
    assert.deepEqual(parse('faces:2-4').filter, { minFaces: 2, maxFaces: 4 });
    assert.deepEqual(parse('faces:0').filter, { maxFaces: 0 });
    assert.deepEqual(parse('2 faces').filter, { minFaces: 2, maxFaces: 2 });
    assert.deepEqual(parse('3+ people happy').filter, { minFaces: 3, emotions: ['happy'] });
    assert.deepEqual(parse('no faces').filter, { maxFaces: 0 });
    assert.deepEqual(parse('solo').filter, { minFaces: 1, maxFaces: 1 });
    assert.deepEqual(parse('group').filter, { minFaces: 3 });
    assert.deepEqual(parse('faces:4-2'), { filter: {}, unknown: ['faces:4-2'] });
  });

  test('confidence', () => {
    assert.deepEqual(parse('conf:80%').filter, { minConfidence: 0.8 });
    assert.deepEqual(parse('confidence:0.65').filter, { minConfidence: 0.65 });
    assert.deepEqual(parse('conf:90').filter, { minConfidence: 0.9 });
    assert.deepEqual(parse('>75%').filter, { minConfidence: 0.75 });
    assert.deepEqual(parse('95%').filter, { minConfidence: 0.95 });
    assert.deepEqual(parse('confident happy').filter, { minConfidence: 0.8, emotions: ['happy'] });
    assert.deepEqual(parse('conf:150%').unknown, ['conf:150%']);
  });

  test('dates: years, months, days, ranges, before and after', () => {
    assert.deepEqual(parse('2019').filter, { takenFrom: '2019-01-01', takenTo: '2019-12-31' });
    assert.deepEqual(parse('2020-02').filter, { takenFrom: '2020-02-01', takenTo: '2020-02-29' });
    assert.deepEqual(parse('2021-02').filter, { takenFrom: '2021-02-01', takenTo: '2021-02-28' });
    assert.deepEqual(parse('2019-05-17').filter, { takenFrom: '2019-05-17', takenTo: '2019-05-17' });
    assert.deepEqual(parse('2018-2020').filter, { takenFrom: '2018-01-01', takenTo: '2020-12-31' });
    assert.deepEqual(parse('from:2018-06 to:2019').filter, { takenFrom: '2018-06-01', takenTo: '2019-12-31' });
    assert.deepEqual(parse('after:2020').filter, { takenFrom: '2021-01-01' });
    assert.deepEqual(parse('before:2020-03-01').filter, { takenTo: '2020-02-29' });
    assert.deepEqual(parse('since:2022 until:2023-06').filter, { takenFrom: '2022-01-01', takenTo: '2023-06-30' });
    assert.deepEqual(parse('2019-13').unknown, ['2019-13']);
    assert.deepEqual(parse('2019-02-30').unknown, ['2019-02-30']);
    assert.equal(dateSpan('1492'), null);
  });

  test('folders, quoted when they hold spaces', () => {
    assert.deepEqual(parse('in:/home/ann/Pictures happy').filter, {
      folder: '/home/ann/Pictures',
      emotions: ['happy'],
    });
    assert.deepEqual(parse('in:"/home/ann/My Photos/2020" sad').filter, {
      folder: '/home/ann/My Photos/2020',
      emotions: ['sad'],
    });
    assert.deepEqual(parse('folder:"C:\\Users\\Ann\\Pictures"').filter, { folder: 'C:\\Users\\Ann\\Pictures' });
    assert.deepEqual(tokenize('a "b c" in:"d e"  f'), ['a', 'b c', 'in:d e', 'f']);
  });

  test('unknown words are reported as typed, and do not disturb the rest', () => {
    assert.deepEqual(parse('happy beach 20-29 mood:great'), {
      filter: { emotions: ['happy'], ageGroups: ['20-29'] },
      unknown: ['beach', 'mood:great'],
    });
    assert.deepEqual(parse('emotion:bored age:abc 500').unknown, ['emotion:bored', 'age:abc', '500']);
    assert.deepEqual(parse('-').unknown, ['-']);
  });

  test('with ethnicity hidden, ethnicity words are not understood', () => {
    assert.deepEqual(parse('happy asian ethnicity:white', true), {
      filter: { emotions: ['happy'] },
      unknown: ['asian', 'ethnicity:white'],
    });
  });
});

describe('search: filters back to words', () => {
  test('canonical text', () => {
    assert.equal(formatFilter({}), '');
    assert.equal(
      formatFilter({ emotions: ['happy'], ageGroups: ['20-29'], ethnicities: ['asian'] }),
      'happy 20-29 asian',
    );
    assert.equal(formatFilter({ genders: ['female'], ageGroups: ['30-39'] }), '30-39 female');
    assert.equal(formatFilter({ emotions: ['sad'], corrected: 'uncorrected' }), 'sad -corrected');
    assert.equal(formatFilter({ emotions: ['angry', 'disgust', 'fear', 'sad', 'surprise', 'neutral'] }), '-happy');
    assert.equal(formatFilter({ ethnicities: ['other'] }), 'ethnicity:other');
    assert.equal(formatFilter({ takenFrom: '2019-01-01', takenTo: '2019-12-31' }), '2019');
    assert.equal(formatFilter({ takenFrom: '2019-03-01', takenTo: '2019-03-31' }), '2019-03');
    assert.equal(formatFilter({ takenFrom: '2019-03-02' }), 'from:2019-03-02');
    assert.equal(formatFilter({ folder: '/a b/c' }), 'in:"/a b/c"');
    assert.equal(formatFilter({ minFaces: 3 }), 'faces:3+');
    assert.equal(formatFilter({ minConfidence: 0.8 }), 'conf:80%');
    assert.equal(formatFilter({ ethnicities: ['asian'], emotions: ['happy'] }, { hideEthnicity: true }), 'happy');
  });

  test('parse(format(filter)) gives the filter back', () => {
    const filters: Filter[] = [
      { emotions: ['happy', 'surprise'], ageGroups: ['0-2', '70+'], genders: ['male'], ethnicities: ['indian'] },
      { ageGroups: ['0-2', '3-9', '10-19', '20-29', '30-39', '40-49', '50-59'] },
      { minFaces: 2, maxFaces: 5, minConfidence: 0.655 },
      { maxFaces: 0 },
      { minFaces: 1, maxFaces: 1 },
      { takenFrom: '2020-02-01', takenTo: '2020-02-29', folder: '/home/ann/My "best" Photos' },
      { takenFrom: '2018-01-01', takenTo: '2019-06-30', corrected: 'corrected' },
      { ethnicities: ['white', 'black', 'asian', 'other'] },
    ];
    for (const filter of filters) {
      const text = formatFilter(filter);
      const expected = { ...filter };
      if (expected.folder) expected.folder = expected.folder.replace(/"/g, '');
      assert.deepEqual(parseSearch(text), { filter: expected, unknown: [] }, text);
    }
  });
});
