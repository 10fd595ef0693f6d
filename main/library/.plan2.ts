import Database from 'better-sqlite3';
const db = new Database('/tmp/lib-scratch/bench2.db');
db.exec(`CREATE INDEX IF NOT EXISTS faces_all ON faces (visible, photo_id, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf, ethnicity_conf, emotion_conf, photo_faces, sort_date, folder)`);
for (let k = 0; k < 2; k++) {
let s = performance.now(); let n = 0;
for (const r of db.prepare(`SELECT photo_id, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf, ethnicity_conf, emotion_conf, photo_faces, sort_date, folder FROM faces INDEXED BY faces_all WHERE visible = 1`).raw().iterate()) { n++; }
console.log('iterate raw 13 cols', n, (performance.now() - s).toFixed(0));
s = performance.now(); n = 0;
for (const r of db.prepare(`SELECT photo_id, age_group, gender, ethnicity, emotion FROM faces INDEXED BY faces_all WHERE visible = 1`).raw().iterate()) { n++; }
console.log('iterate raw 5 cols', n, (performance.now() - s).toFixed(0));
s = performance.now();
const all = db.prepare(`SELECT photo_id, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf, ethnicity_conf, emotion_conf, photo_faces, sort_date, folder FROM faces INDEXED BY faces_all WHERE visible = 1`).raw().all();
console.log('all raw', all.length, (performance.now() - s).toFixed(0));
s = performance.now();
console.log(db.prepare(`SELECT count(*) FROM faces INDEXED BY faces_all WHERE visible = 1`).get(), (performance.now() - s).toFixed(0));
}
