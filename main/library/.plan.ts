import Database from 'better-sqlite3';
const db = new Database('/tmp/lib-scratch/bench2.db');
const t = (label: string, q: string, ...params: unknown[]) => {
  const s = performance.now(); const r = db.prepare(q).all(...params); console.log(label.padEnd(30), (performance.now() - s).toFixed(0).padStart(6), 'ms', r.length, 'rows |', db.prepare('EXPLAIN QUERY PLAN ' + q).all(...params).map((x: any) => x.detail).join(' | '));
};
if (!db.prepare("SELECT 1 FROM pragma_table_info('faces') WHERE name='visible'").get()) {
  const s = performance.now();
  db.exec(`ALTER TABLE faces ADD COLUMN visible INTEGER NOT NULL DEFAULT 1; ALTER TABLE faces ADD COLUMN sort_date TEXT; ALTER TABLE faces ADD COLUMN photo_faces INTEGER; ALTER TABLE faces ADD COLUMN folder TEXT;
  UPDATE faces SET sort_date = (SELECT sort_date FROM photos WHERE id = photo_id), photo_faces = (SELECT face_count FROM photos WHERE id = photo_id), folder = (SELECT folder FROM photos WHERE id = photo_id);
  CREATE INDEX faces_cube ON faces (visible, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf, ethnicity_conf, emotion_conf);
  CREATE INDEX faces_photo_level ON faces (visible, sort_date, photo_faces, folder);
  ANALYZE;`);
  console.log('migrated', performance.now() - s);
}
t('cube all', `SELECT age_group, gender, ethnicity, emotion, corrected, count(*) n FROM faces WHERE visible = 1 GROUP BY 1,2,3,4,5`);
t('cube conf', `SELECT CASE WHEN age_group_conf >= 0.6 THEN age_group END a, CASE WHEN gender_conf >= 0.6 THEN gender END g, CASE WHEN ethnicity_conf >= 0.6 THEN ethnicity END e, CASE WHEN emotion_conf >= 0.6 THEN emotion END m, corrected, count(*) n FROM faces WHERE visible = 1 GROUP BY 1,2,3,4,5`);
t('cube 2015', `SELECT age_group, gender, ethnicity, emotion, corrected, count(*) n FROM faces WHERE visible = 1 AND sort_date >= '2015' AND sort_date < '2016' GROUP BY 1,2,3,4,5`);
t('year facet', `SELECT substr(sort_date,1,4), count(*) FROM faces WHERE visible = 1 GROUP BY 1`);
t('year facet happy', `SELECT substr(sort_date,1,4), count(*) FROM faces WHERE visible = 1 AND emotion = 'happy' GROUP BY 1`);
t('folder facet', `SELECT folder, count(*) FROM faces WHERE visible = 1 GROUP BY 1`);
t('facecount facet', `SELECT photo_faces, count(*) FROM faces WHERE visible = 1 GROUP BY 1`);
t('facecount photos', `SELECT face_count, count(*) FROM photos WHERE status='ok' GROUP BY 1`);
t('emotion only idx', `SELECT emotion, count(*) FROM faces WHERE visible = 1 GROUP BY 1`);
t('count happy', `SELECT count(*) FROM faces WHERE visible = 1 AND emotion = 'happy'`);
t('page happy', `SELECT * FROM faces WHERE visible = 1 AND emotion = 'happy' ORDER BY sort_date DESC, photo_id DESC, idx LIMIT 100`);
t('page none', `SELECT * FROM faces WHERE visible = 1 ORDER BY sort_date DESC, photo_id DESC, idx LIMIT 100`);
t('photo distinct happy', `SELECT count(DISTINCT photo_id) FROM faces WHERE visible = 1 AND emotion = 'happy'`);
