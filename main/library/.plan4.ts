import Database from 'better-sqlite3';
const db = new Database('/tmp/lib-scratch/bench.db');
const t = (label: string, q: string) => { const s = performance.now(); const r = db.prepare(q).raw().all(); console.log(label.padEnd(20), (performance.now() - s).toFixed(0).padStart(6), 'ms', JSON.stringify(r[0]).slice(0, 100)); };
const E = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const idx = (col: string, labels: string[]) => `CASE ${col} ${labels.map((l, i) => `WHEN '${l}' THEN ${1 << i}`).join(' ')} ELSE 0 END`;
const A = ['0-2', '3-9', '10-19', '20-29', '30-39', '40-49', '50-59', '60-69', '70+'];
const ET = ['white', 'black', 'asian', 'indian', 'other'];
const G = ['male', 'female'];
const masks = `sum(DISTINCT ${idx('f.age_group', A)}) a, sum(DISTINCT ${idx('f.gender', G)}) g, sum(DISTINCT ${idx('f.ethnicity', ET)}) e, sum(DISTINCT ${idx('f.emotion', E)}) m, max(f.corrected <> 0) + 2 * max(f.corrected = 0) c`;
const outer = [...A.map((_, i) => `sum(a >> ${i} & 1)`), ...G.map((_, i) => `sum(g >> ${i} & 1)`), ...ET.map((_, i) => `sum(e >> ${i} & 1)`), ...E.map((_, i) => `sum(m >> ${i} & 1)`), 'sum(c & 1)', 'sum(c >> 1 & 1)'].join(', ');
for (let k = 0; k < 2; k++) {
t('bitmask', `SELECT ${outer} FROM (SELECT ${masks} FROM faces f INDEXED BY faces_by_photo WHERE f.photo_visible = 1 GROUP BY f.photo_id)`);

t('count only', `SELECT count(*) FROM (SELECT count(*) FROM faces f INDEXED BY faces_by_photo WHERE f.photo_visible = 1 GROUP BY f.photo_id)`);
t('distinct emo', `SELECT emotion, count(*) FROM (SELECT DISTINCT f.emotion, f.photo_id FROM faces f WHERE f.photo_visible = 1) GROUP BY 1`);
}
