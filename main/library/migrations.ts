/**
 * The library schema as numbered, append-only migrations. Never edit a released migration: add the
 * next one. `PRAGMA user_version` records the last one applied; each runs in its own transaction
 * together with the version bump, so a crash leaves the database at a whole version.
 */
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL -- JSON
      ) STRICT;

      CREATE TABLE scans (
        id          INTEGER PRIMARY KEY,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        -- running | completed | cancelled | failed; a 'running' row whose process died is 'interrupted'
        state       TEXT NOT NULL,
        roots       TEXT NOT NULL, -- JSON array
        counts      TEXT NOT NULL DEFAULT '{}', -- JSON ScanCounts
        error       TEXT
      ) STRICT;

      -- One row per file path. Identity is content: a moved file keeps its row (and faces), a copy
      -- gets its own row with copied faces, a changed file is re-analysed in place.
      CREATE TABLE photos (
        id            INTEGER PRIMARY KEY,
        path          TEXT NOT NULL UNIQUE,
        folder        TEXT NOT NULL,
        content_hash  TEXT,          -- sha256 hex; NULL when the file could not be read
        size          INTEGER NOT NULL,
        mtime_ms      REAL NOT NULL,
        format        TEXT,
        width         INTEGER,       -- upright (EXIF-rotated) size
        height        INTEGER,
        orientation   INTEGER,
        taken_at      TEXT,          -- EXIF date taken, camera-local 'YYYY-MM-DDTHH:MM:SS'
        sort_date     TEXT NOT NULL, -- taken_at, else the file time (local), same format
        camera        TEXT,
        status        TEXT NOT NULL CHECK (status IN ('ok', 'error', 'unsupported')),
        error         TEXT,
        face_count    INTEGER NOT NULL DEFAULT 0,
        missing_since TEXT,          -- set while the file is gone; purged after the grace period
        added_at      TEXT NOT NULL,
        analysed_at   TEXT
      ) STRICT;
      CREATE INDEX photos_content_hash ON photos (content_hash);
      CREATE INDEX photos_folder ON photos (folder);
      CREATE INDEX photos_browse ON photos (sort_date) WHERE status = 'ok' AND missing_since IS NULL;
      CREATE INDEX photos_problems ON photos (status) WHERE status <> 'ok';
      CREATE INDEX photos_missing ON photos (missing_since) WHERE missing_since IS NOT NULL;

      -- Filters and facets read faces alone: the shown values (age_group to emotion_conf, corrected)
      -- are kept here by the faces repository (the correction if any, else the prediction), and the
      -- photo-level values (photo_*) are copied from the photo on insert and by the trigger below.
      CREATE TABLE faces (
        id               INTEGER PRIMARY KEY,
        photo_id         INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
        idx              INTEGER NOT NULL, -- order within the photo's analysis; names its thumbnail
        x                REAL NOT NULL,    -- box in upright full-resolution pixels
        y                REAL NOT NULL,
        w                REAL NOT NULL,
        h                REAL NOT NULL,
        landmarks        TEXT NOT NULL,    -- JSON [[x, y], ...]
        score            REAL NOT NULL,
        face_size        REAL NOT NULL,
        sharpness        REAL NOT NULL,
        uncertain        INTEGER NOT NULL,
        quality_reasons  TEXT NOT NULL,    -- JSON string[]
        age_years        REAL,
        age_group        TEXT,
        age_group_conf   REAL,
        gender           TEXT,
        gender_conf      REAL,
        ethnicity        TEXT,
        ethnicity_conf   REAL,
        emotion          TEXT,
        emotion_conf     REAL,
        corrected        INTEGER NOT NULL DEFAULT 0, -- bit per corrected attribute
        photo_visible    INTEGER NOT NULL, -- the photo is 'ok' and its file present
        photo_sort_date  TEXT NOT NULL,
        photo_face_count INTEGER NOT NULL,
        photo_folder     TEXT NOT NULL,
        photo_year       INTEGER NOT NULL, -- of photo_sort_date, so facets group by a plain column
        UNIQUE (photo_id, idx)
      ) STRICT;
      -- Browsing order and date ranges.
      CREATE INDEX faces_browse ON faces (photo_visible, photo_sort_date);
      -- Three covering indexes over every filter column, so counts and facets are index-only scans
      -- grouped in index order (no sort): by attribute values (face facets), by photo-level values
      -- (face count, folder, year facets) and by photo (facets counting photos).
      CREATE INDEX faces_by_attributes ON faces (
        photo_visible, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf, ethnicity_conf,
        emotion_conf, photo_face_count, photo_folder, photo_sort_date);
      CREATE INDEX faces_by_photo_values ON faces (
        photo_visible, photo_face_count, photo_folder, photo_year, age_group, gender, ethnicity, emotion, corrected,
        age_group_conf, gender_conf, ethnicity_conf, emotion_conf, photo_sort_date);
      CREATE INDEX faces_by_photo ON faces (
        photo_visible, photo_id, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf,
        ethnicity_conf, emotion_conf, photo_face_count, photo_folder, photo_sort_date);
      -- Selective attribute filters, in browsing order (gender is never selective enough to pay).
      CREATE INDEX faces_age_group ON faces (age_group, photo_visible, photo_sort_date);
      CREATE INDEX faces_ethnicity ON faces (ethnicity, photo_visible, photo_sort_date);
      CREATE INDEX faces_emotion ON faces (emotion, photo_visible, photo_sort_date);

      CREATE TRIGGER photos_to_faces AFTER UPDATE OF status, missing_since, sort_date, face_count, folder ON photos
      BEGIN
        UPDATE faces SET
          photo_visible = (NEW.status = 'ok' AND NEW.missing_since IS NULL),
          photo_sort_date = NEW.sort_date,
          photo_face_count = NEW.face_count,
          photo_folder = NEW.folder,
          photo_year = CAST(substr(NEW.sort_date, 1, 4) AS INTEGER)
        WHERE photo_id = NEW.id;
      END;

      CREATE TABLE predictions (
        face_id       INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
        attribute     TEXT NOT NULL,
        label         TEXT NOT NULL,
        confidence    REAL NOT NULL,
        probabilities TEXT NOT NULL, -- JSON { label: p }
        years         REAL,          -- ageGroup only: the estimated age
        model         TEXT NOT NULL,
        model_version TEXT NOT NULL,
        PRIMARY KEY (face_id, attribute)
      ) STRICT, WITHOUT ROWID;

      -- Kept apart from predictions: re-analysis replaces predictions, never what the user said.
      CREATE TABLE corrections (
        face_id      INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
        attribute    TEXT NOT NULL,
        value        TEXT NOT NULL,
        corrected_at TEXT NOT NULL,
        PRIMARY KEY (face_id, attribute)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'XMP sidecar problems and sidecars read',
    sql: `
      -- The last problem reading or writing each XMP sidecar (or a photo's embedded XMP): malformed,
      -- too large, a folder, not writable. Cleared when that path is next read or written cleanly.
      CREATE TABLE xmp_problems (
        path      TEXT NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('read', 'write')),
        photo_id  INTEGER REFERENCES photos (id) ON DELETE CASCADE,
        problem   TEXT NOT NULL,
        at        TEXT NOT NULL,
        PRIMARY KEY (path, operation)
      ) STRICT;

      -- Each sidecar as it was when Facets last read (or wrote) it, so that a scan reads again the
      -- sidecars another tool changed, even of photos that did not change themselves.
      CREATE TABLE xmp_sidecars (
        path     TEXT PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
        size     INTEGER NOT NULL,
        mtime_ms REAL NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'people: face embeddings, people, assignments and the user word on them',
    sql: `
      -- [Note: people tables] Each face's vectors, one per embedding spec (main/engine/attributes/heads.ts
      -- specKey: networks with the first 12 hex of their model sha256, framing, mirroring), float32
      -- little-endian: the identity vector people are clustered on, and the heads' input the fine-tune
      -- reads. Written at scan time; older faces get theirs from the background backfill.
      CREATE TABLE face_embeddings (
        face_id INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
        spec    TEXT NOT NULL,
        dim     INTEGER NOT NULL,
        vector  BLOB NOT NULL,
        PRIMARY KEY (face_id, spec)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX face_embeddings_spec ON face_embeddings (spec, face_id);

      CREATE TABLE people (
        id            INTEGER PRIMARY KEY,
        name          TEXT,              -- NULL: shown as "Unnamed person"
        hidden        INTEGER NOT NULL DEFAULT 0,
        cover_face_id INTEGER REFERENCES faces (id) ON DELETE SET NULL, -- chosen by the user; else the best face
        face_count    INTEGER NOT NULL DEFAULT 0, -- faces on visible photos, kept by the triggers below
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX people_name ON people (name COLLATE NOCASE) WHERE name IS NOT NULL;
      CREATE INDEX people_by_count ON people (hidden, face_count DESC, id);

      -- Who each face is. 'cluster': placed by clustering, which may move it again; 'user': the user put or
      -- confirmed it there, and clustering never moves it.
      CREATE TABLE face_people (
        face_id     INTEGER PRIMARY KEY REFERENCES faces (id) ON DELETE CASCADE,
        person_id   INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        source      TEXT NOT NULL CHECK (source IN ('cluster', 'user')),
        assigned_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX face_people_person ON face_people (person_id, source);

      -- people.face_count follows face_people and the faces' visibility (the people list reads it alone).
      -- A face leaves its person before it is deleted, while its visibility can still be read.
      CREATE TRIGGER faces_leave_people BEFORE DELETE ON faces
      BEGIN
        DELETE FROM face_people WHERE face_id = OLD.id;
      END;
      CREATE TRIGGER face_people_added AFTER INSERT ON face_people
      BEGIN
        UPDATE people SET face_count = face_count + coalesce((SELECT photo_visible FROM faces WHERE id = NEW.face_id), 0)
         WHERE id = NEW.person_id;
      END;
      CREATE TRIGGER face_people_removed AFTER DELETE ON face_people
      BEGIN
        UPDATE people SET face_count = face_count - coalesce((SELECT photo_visible FROM faces WHERE id = OLD.face_id), 0)
         WHERE id = OLD.person_id;
      END;
      CREATE TRIGGER face_people_moved AFTER UPDATE OF person_id ON face_people WHEN NEW.person_id <> OLD.person_id
      BEGIN
        UPDATE people SET face_count = face_count - coalesce((SELECT photo_visible FROM faces WHERE id = OLD.face_id), 0)
         WHERE id = OLD.person_id;
        UPDATE people SET face_count = face_count + coalesce((SELECT photo_visible FROM faces WHERE id = NEW.face_id), 0)
         WHERE id = NEW.person_id;
      END;
      CREATE TRIGGER faces_visibility_to_people AFTER UPDATE OF photo_visible ON faces
        WHEN NEW.photo_visible <> OLD.photo_visible
      BEGIN
        UPDATE people SET face_count = face_count + NEW.photo_visible - OLD.photo_visible
         WHERE id = (SELECT person_id FROM face_people WHERE face_id = NEW.id);
      END;

      -- "Not this person": clustering never puts the face back with that person.
      CREATE TABLE face_person_rejections (
        face_id   INTEGER NOT NULL REFERENCES faces (id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        at        TEXT NOT NULL,
        PRIMARY KEY (face_id, person_id)
      ) STRICT, WITHOUT ROWID;

      -- The user's people actions, newest last, each with what it changed (JSON), so undo restores it.
      CREATE TABLE people_actions (
        id     INTEGER PRIMARY KEY,
        kind   TEXT NOT NULL,
        undo   TEXT NOT NULL,
        at     TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'problems the user chose to ignore',
    sql: `
      -- When the user ignored this photo's problem in the Problems view (NULL: not ignored). Analysing the
      -- file again (it changed, or a retry) clears it, so a new problem shows again.
      ALTER TABLE photos ADD COLUMN error_ignored_at TEXT;
    `,
  },
  {
    version: 5,
    name: 'retries and folder problems',
    sql: `
      -- A file that failed is tried again by later scans even though its size and mtime did not change
      -- (the failure may have been transient: permission denied, thumbnail folder blocked), backing off
      -- as failures repeat. Reset once it is read cleanly.
      ALTER TABLE photos ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE photos ADD COLUMN retry_after TEXT;

      -- Folders a scan could not list (permission denied, an unplugged root), for the Problems view.
      -- Cleared when a later scan of the same root lists them.
      CREATE TABLE folder_problems (
        path    TEXT PRIMARY KEY,
        root    TEXT NOT NULL,
        problem TEXT NOT NULL,
        at      TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'face management: faces the user added, faces the user said are not faces',
    sql: `
      -- [Note: face edits] Where a face comes from: 'detected' (the analysis; re-analysis replaces it),
      -- 'user' (drawn by the user) or 'xmp' (a named region of another tool's XMP with no detected face
      -- under it). Faces not 'detected' survive re-analysis; their idx lies at USER_FACE_IDX and above,
      -- clear of the detected faces' 0..n-1 (idx names the face thumbnail).
      ALTER TABLE faces ADD COLUMN source TEXT NOT NULL DEFAULT 'detected' CHECK (source IN ('detected', 'user', 'xmp'));

      -- "Not a face": the face's row left faces (so no query, count, facet, person or sidecar sees it)
      -- and waits here with everything needed to put it back (restore), as JSON. Re-analysis drops a
      -- detection overlapping a rejected box (IoU > 0.5) and counts it in suppressed.
      CREATE TABLE rejected_faces (
        id              INTEGER PRIMARY KEY,
        photo_id        INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
        face_id         INTEGER NOT NULL, -- the id it had, given back on restore when still free
        x               REAL NOT NULL,    -- box in upright full-resolution pixels
        y               REAL NOT NULL,
        w               REAL NOT NULL,
        h               REAL NOT NULL,
        rejected_at     TEXT NOT NULL,
        suppressed      INTEGER NOT NULL DEFAULT 0, -- detections dropped since, for being this face
        suppressed_at   TEXT,
        saved           TEXT NOT NULL     -- JSON: face row, predictions, corrections, vectors, person
      ) STRICT;
      CREATE INDEX rejected_faces_photo ON rejected_faces (photo_id);
    `,
  },
  {
    version: 7,
    name: 'facet index changes',
    sql: `
      -- [Note: facet index changes] Which photos changed, for the in-memory facet index: one row per photo
      -- with the sequence number of its latest change (so the table never outgrows the photos; an upsert,
      -- not OR REPLACE, which an outer statement's conflict clause would override). Every
      -- write the index reads (photos, faces' shown values, who a face is) marks its photo here, whatever
      -- code or connection makes it; the index re-reads only those photos.
      CREATE TABLE facet_changes (
        photo_id INTEGER PRIMARY KEY,
        seq      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX facet_changes_seq ON facet_changes (seq);
      CREATE TRIGGER facet_changes_photo_added AFTER INSERT ON photos
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT NEW.id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_photo_changed
        AFTER UPDATE OF status, missing_since, sort_date, face_count, folder ON photos
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT NEW.id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_photo_deleted AFTER DELETE ON photos
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT OLD.id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_face_added AFTER INSERT ON faces
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT NEW.photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_face_changed
        AFTER UPDATE OF photo_id, age_group, gender, ethnicity, emotion, corrected, age_group_conf, gender_conf,
          ethnicity_conf, emotion_conf, photo_visible ON faces
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT OLD.photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
        INSERT INTO facet_changes (photo_id, seq)
        SELECT NEW.photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_face_deleted AFTER DELETE ON faces
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT OLD.photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 WHERE true
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_person_added AFTER INSERT ON face_people
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 FROM faces WHERE id = NEW.face_id
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_person_changed AFTER UPDATE OF face_id, person_id ON face_people
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 FROM faces
         WHERE id IN (OLD.face_id, NEW.face_id)
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
      CREATE TRIGGER facet_changes_person_removed AFTER DELETE ON face_people
      BEGIN
        INSERT INTO facet_changes (photo_id, seq)
        SELECT photo_id, coalesce((SELECT max(seq) FROM facet_changes), 0) + 1 FROM faces WHERE id = OLD.face_id
        ON CONFLICT (photo_id) DO UPDATE SET seq = excluded.seq;
      END;
    `,
  },
];

/** Applies every migration newer than the database, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `the library was created by a newer Facets (schema ${current}, this version knows ${latest}); update Facets`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return latest;
}
