/**
 * People: the faces' stored vectors (face_embeddings), people, who each face is (face_people), the
 * user's "not this person" (face_person_rejections) and the undo log of people actions. See
 * [Note: people tables] in main/library/migrations.ts.
 */
import type { Filter } from '../../api/contract.js';
import type { Db } from '../db.js';
import { matchingFaces } from './search.js';

export interface StoredVectorInput {
  spec: string;
  vector: Float32Array;
}

export type AssignmentSource = 'cluster' | 'user';

export interface PersonRow {
  id: number;
  name: string | null;
  hidden: number;
  cover_face_id: number | null;
  face_count: number;
  created_at: string;
  updated_at: string;
}

export interface AssignmentRow {
  face_id: number;
  person_id: number;
  source: AssignmentSource;
  assigned_at: string;
}

/** A face as clustering sees it. */
export interface ClusterFaceRow {
  faceId: number;
  vector: Buffer;
  faceSize: number;
  sharpness: number;
  personId: number | null;
  source: AssignmentSource | null;
}

/** A face still lacking a vector of some spec, with what re-embedding it needs. */
export interface FaceToEmbedRow {
  faceId: number;
  photoId: number;
  path: string;
  x: number;
  y: number;
  w: number;
  h: number;
  landmarks: string;
}

export function vectorBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobVector(b: Buffer): Float32Array {
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export class PeopleRepository {
  private readonly stmts;

  constructor(readonly db: Db) {
    this.stmts = {
      insertVector: db.prepare<[number, string, number, Buffer]>(
        `INSERT INTO face_embeddings (face_id, spec, dim, vector) VALUES (?, ?, ?, ?)
         ON CONFLICT (face_id, spec) DO UPDATE SET dim = excluded.dim, vector = excluded.vector`,
      ),
      vector: db.prepare<[number, string], { vector: Buffer }>(
        'SELECT vector FROM face_embeddings WHERE face_id = ? AND spec = ?',
      ),
      copyVectors: db.prepare<[number, number]>(
        `INSERT OR IGNORE INTO face_embeddings (face_id, spec, dim, vector)
         SELECT t.id, e.spec, e.dim, e.vector FROM faces s JOIN faces t ON t.photo_id = ? AND t.idx = s.idx
           JOIN face_embeddings e ON e.face_id = s.id WHERE s.photo_id = ?`,
      ),
      clusterFaces: db.prepare<[string], ClusterFaceRow>(
        `SELECT f.id AS faceId, e.vector, f.face_size AS faceSize, f.sharpness, a.person_id AS personId, a.source
           FROM face_embeddings e JOIN faces f ON f.id = e.face_id LEFT JOIN face_people a ON a.face_id = f.id
          WHERE e.spec = ? ORDER BY f.id`,
      ),
      clusterFacesAfter: db.prepare<[string, number], ClusterFaceRow>(
        `SELECT f.id AS faceId, e.vector, f.face_size AS faceSize, f.sharpness, a.person_id AS personId, a.source
           FROM face_embeddings e JOIN faces f ON f.id = e.face_id LEFT JOIN face_people a ON a.face_id = f.id
          WHERE e.spec = ? AND f.id > ? ORDER BY f.id`,
      ),
      unembedded: db.prepare<[number, string, number], FaceToEmbedRow>(
        `SELECT f.id AS faceId, p.id AS photoId, p.path, f.x, f.y, f.w, f.h, f.landmarks
           FROM faces f JOIN photos p ON p.id = f.photo_id
          WHERE f.id > ? AND p.status = 'ok' AND p.missing_since IS NULL
            AND NOT EXISTS (SELECT 1 FROM face_embeddings e WHERE e.face_id = f.id AND e.spec = ?)
          ORDER BY f.id LIMIT ?`,
      ),
      countUnembedded: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM faces f JOIN photos p ON p.id = f.photo_id
          WHERE p.status = 'ok' AND p.missing_since IS NULL
            AND NOT EXISTS (SELECT 1 FROM face_embeddings e WHERE e.face_id = f.id AND e.spec = ?)`,
      ),
      insertPerson: db.prepare<[string | null, string, string]>(
        'INSERT INTO people (name, created_at, updated_at) VALUES (?, ?, ?)',
      ),
      person: db.prepare<[number], PersonRow>('SELECT * FROM people WHERE id = ?'),
      idsNamed: db.prepare<[string], { id: number }>('SELECT id FROM people WHERE name = ? COLLATE NOCASE'),
      rejectedFacesOf: db.prepare<[number], { face_id: number }>(
        'SELECT face_id FROM face_person_rejections WHERE person_id = ?',
      ),
      nameOfFace: db.prepare<[number], { name: string }>(
        `SELECT p.name FROM face_people fp JOIN people p ON p.id = fp.person_id
          WHERE fp.face_id = ? AND p.name IS NOT NULL AND p.hidden = 0`,
      ),
      personByName: db.prepare<[string], PersonRow>(
        'SELECT * FROM people WHERE name = ? COLLATE NOCASE ORDER BY face_count DESC, id LIMIT 1',
      ),
      listVisible: db.prepare<[number, number], PersonRow>(
        `SELECT * FROM people WHERE hidden = 0 AND face_count > 0 ORDER BY face_count DESC, id LIMIT ? OFFSET ?`,
      ),
      listAll: db.prepare<[number, number], PersonRow>(
        `SELECT * FROM people WHERE face_count > 0 ORDER BY hidden, face_count DESC, id LIMIT ? OFFSET ?`,
      ),
      countVisible: db.prepare<[], { n: number }>(
        'SELECT count(*) AS n FROM people WHERE hidden = 0 AND face_count > 0',
      ),
      countAll: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM people WHERE face_count > 0'),
      names: db.prepare<[string, number], { name: string }>(
        `SELECT name FROM people WHERE name IS NOT NULL AND name LIKE ? ESCAPE '\\' GROUP BY name COLLATE NOCASE
          ORDER BY max(face_count) DESC, name LIMIT ?`,
      ),
      setName: db.prepare<[string | null, string, number]>('UPDATE people SET name = ?, updated_at = ? WHERE id = ?'),
      setHidden: db.prepare<[number, string, number]>('UPDATE people SET hidden = ?, updated_at = ? WHERE id = ?'),
      setCover: db.prepare<[number | null, string, number]>(
        'UPDATE people SET cover_face_id = ?, updated_at = ? WHERE id = ?',
      ),
      restorePerson: db.prepare<[number, string | null, number, number | null, string, string]>(
        `INSERT INTO people (id, name, hidden, cover_face_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, hidden = excluded.hidden,
           cover_face_id = excluded.cover_face_id, updated_at = excluded.updated_at`,
      ),
      deletePerson: db.prepare<[number]>('DELETE FROM people WHERE id = ?'),
      deleteEmptyPeople: db.prepare<[]>(
        `DELETE FROM people WHERE name IS NULL AND hidden = 0 AND cover_face_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM face_people a WHERE a.person_id = people.id)`,
      ),
      bestFace: db.prepare<[number], { face_id: number }>(
        `SELECT a.face_id FROM face_people a JOIN faces f ON f.id = a.face_id
          WHERE a.person_id = ? AND f.photo_visible = 1
          ORDER BY a.source = 'user' DESC, f.face_size * min(f.sharpness, 200) DESC, a.face_id LIMIT 1`,
      ),
      assignment: db.prepare<[number], AssignmentRow>('SELECT * FROM face_people WHERE face_id = ?'),
      faceExists: db.prepare<[number], { id: number }>('SELECT id FROM faces WHERE id = ?'),
      assign: db.prepare<[number, number, AssignmentSource, string]>(
        `INSERT INTO face_people (face_id, person_id, source, assigned_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (face_id) DO UPDATE SET person_id = excluded.person_id, source = excluded.source,
           assigned_at = excluded.assigned_at`,
      ),
      unassign: db.prepare<[number]>('DELETE FROM face_people WHERE face_id = ?'),
      facesOf: db.prepare<[number], AssignmentRow>('SELECT * FROM face_people WHERE person_id = ? ORDER BY face_id'),
      visibleFacesOf: db.prepare<[number, number, number], { face_id: number }>(
        `SELECT a.face_id FROM face_people a JOIN faces f ON f.id = a.face_id
          WHERE a.person_id = ? AND f.photo_visible = 1 ORDER BY f.photo_sort_date DESC, f.id LIMIT ? OFFSET ?`,
      ),
      clearClusterAssignments: db.prepare<[]>(`DELETE FROM face_people WHERE source = 'cluster'`),
      reject: db.prepare<[number, number, string]>(
        'INSERT OR IGNORE INTO face_person_rejections (face_id, person_id, at) VALUES (?, ?, ?)',
      ),
      unreject: db.prepare<[number, number]>('DELETE FROM face_person_rejections WHERE face_id = ? AND person_id = ?'),
      rejections: db.prepare<[], { face_id: number; person_id: number }>(
        'SELECT face_id, person_id FROM face_person_rejections',
      ),
      rejectionsOf: db.prepare<[number], { person_id: number; at: string }>(
        'SELECT person_id, at FROM face_person_rejections WHERE face_id = ?',
      ),
      moveRejections: db.prepare<[number, number]>(
        'UPDATE OR IGNORE face_person_rejections SET person_id = ? WHERE person_id = ?',
      ),
      watermark: db.prepare<[], { value: string }>(`SELECT value FROM settings WHERE key = 'people:clusteredThrough'`),
      setWatermark: db.prepare<[string]>(
        `INSERT INTO settings (key, value) VALUES ('people:clusteredThrough', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
      pushAction: db.prepare<[string, string, string]>('INSERT INTO people_actions (kind, undo, at) VALUES (?, ?, ?)'),
      lastAction: db.prepare<[], { id: number; kind: string; undo: string; at: string }>(
        'SELECT * FROM people_actions ORDER BY id DESC LIMIT 1',
      ),
      dropAction: db.prepare<[number]>('DELETE FROM people_actions WHERE id = ?'),
      userAssignmentsOfPhoto: db.prepare<
        [number],
        { face_id: number; person_id: number; assigned_at: string; x: number; y: number; w: number; h: number }
      >(
        `SELECT a.face_id, a.person_id, a.assigned_at, f.x, f.y, f.w, f.h FROM face_people a
           JOIN faces f ON f.id = a.face_id WHERE f.photo_id = ? AND a.source = 'user'`,
      ),
      rejectionsOfPhoto: db.prepare<
        [number],
        { face_id: number; person_id: number; at: string; x: number; y: number; w: number; h: number }
      >(
        `SELECT r.face_id, r.person_id, r.at, f.x, f.y, f.w, f.h FROM face_person_rejections r
           JOIN faces f ON f.id = r.face_id WHERE f.photo_id = ?`,
      ),
      copyUserWord: db.prepare<[number, number]>(
        `INSERT OR IGNORE INTO face_people (face_id, person_id, source, assigned_at)
         SELECT t.id, a.person_id, a.source, a.assigned_at FROM faces s JOIN faces t ON t.photo_id = ? AND t.idx = s.idx
           JOIN face_people a ON a.face_id = s.id WHERE s.photo_id = ? AND a.source = 'user'`,
      ),
    };
  }

  // ---- vectors

  insertVectors(faceId: number, vectors: readonly StoredVectorInput[]): void {
    for (const v of vectors) this.stmts.insertVector.run(faceId, v.spec, v.vector.length, vectorBlob(v.vector));
  }

  vector(faceId: number, spec: string): Float32Array | undefined {
    const row = this.stmts.vector.get(faceId, spec);
    return row ? blobVector(row.vector) : undefined;
  }

  /** A copied photo's faces get the source's vectors (faces match by their order in the analysis). */
  copyVectors(fromPhotoId: number, toPhotoId: number): void {
    this.stmts.copyVectors.run(toPhotoId, fromPhotoId);
    this.stmts.copyUserWord.run(toPhotoId, fromPhotoId);
  }

  /** Every face with a vector of `spec`, with its quality and current person, in id order. */
  *clusterFaces(spec: string): IterableIterator<ClusterFaceRow> {
    yield* this.stmts.clusterFaces.iterate(spec);
  }

  /** The same, for faces after `afterId` only. */
  *clusterFacesAfter(spec: string, afterId: number): IterableIterator<ClusterFaceRow> {
    yield* this.stmts.clusterFacesAfter.iterate(spec, afterId);
  }

  /** Up to `limit` faces of present photos after `afterId` without a vector of `spec`. */
  unembedded(spec: string, afterId: number, limit: number): FaceToEmbedRow[] {
    return this.stmts.unembedded.all(afterId, spec, limit);
  }

  countUnembedded(spec: string): number {
    return this.stmts.countUnembedded.get(spec)?.n ?? 0;
  }

  // ---- people

  createPerson(name: string | null, at: string): number {
    return Number(this.stmts.insertPerson.run(name, at, at).lastInsertRowid);
  }

  person(id: number): PersonRow | undefined {
    return this.stmts.person.get(id);
  }

  /** The name of the (visible, named) person a face is with, for sidecars ([Note: xmp-names]). */
  nameOfFace(faceId: number): string | undefined {
    return this.stmts.nameOfFace.get(faceId)?.name;
  }

  personByName(name: string): PersonRow | undefined {
    return this.stmts.personByName.get(name);
  }

  list(includeHidden: boolean, limit: number, offset: number): { total: number; rows: PersonRow[] } {
    return includeHidden
      ? { total: this.stmts.countAll.get()?.n ?? 0, rows: this.stmts.listAll.all(limit, offset) }
      : { total: this.stmts.countVisible.get()?.n ?? 0, rows: this.stmts.listVisible.all(limit, offset) };
  }

  /** Existing names starting with `prefix` (case-insensitive), most faces first. */
  names(prefix: string, limit: number): string[] {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.stmts.names.all(`${escaped}%`, limit).map((r) => r.name);
  }

  setName(id: number, name: string | null, at: string): void {
    this.stmts.setName.run(name, at, id);
  }

  setHidden(id: number, hidden: boolean, at: string): void {
    this.stmts.setHidden.run(hidden ? 1 : 0, at, id);
  }

  setCover(id: number, faceId: number | null, at: string): void {
    this.stmts.setCover.run(faceId, at, id);
  }

  /** Puts a person row back as it was (undo). */
  restorePerson(p: PersonRow): void {
    this.stmts.restorePerson.run(p.id, p.name, p.hidden, p.cover_face_id, p.created_at, p.updated_at);
  }

  deletePerson(id: number): void {
    this.stmts.deletePerson.run(id);
  }

  /** Drops unnamed people nobody is in any more (named, hidden or covered ones stay for undo and names). */
  deleteEmptyPeople(): void {
    this.stmts.deleteEmptyPeople.run();
  }

  /** The user's cover face, else the person's largest sharp face. */
  coverFace(p: PersonRow): number | null {
    return p.cover_face_id ?? this.stmts.bestFace.get(p.id)?.face_id ?? null;
  }

  /** Faces per person under a filter (its people selection left out), most first. */
  personCounts(filter: Filter, limit: number): { id: number; name: string | null; count: number }[] {
    const from = matchingFaces({ ...filter, people: [] });
    return this.db
      .prepare<unknown[], { id: number; name: string | null; count: number }>(
        `SELECT p.id, p.name, c.count FROM (
           SELECT a.person_id, count(*) AS count ${from.sql.replace('FROM faces f', 'FROM faces f JOIN face_people a ON a.face_id = f.id')}
            GROUP BY a.person_id) c JOIN people p ON p.id = c.person_id
          WHERE p.hidden = 0 ORDER BY c.count DESC, p.id LIMIT ?`,
      )
      .all(...from.params, limit);
  }

  // ---- assignments

  faceExists(faceId: number): boolean {
    return this.stmts.faceExists.get(faceId) !== undefined;
  }

  assignment(faceId: number): AssignmentRow | undefined {
    return this.stmts.assignment.get(faceId);
  }

  assign(faceId: number, personId: number, source: AssignmentSource, at: string): void {
    this.stmts.assign.run(faceId, personId, source, at);
  }

  unassign(faceId: number): void {
    this.stmts.unassign.run(faceId);
  }

  facesOf(personId: number): AssignmentRow[] {
    return this.stmts.facesOf.all(personId);
  }

  visibleFacesOf(personId: number, limit: number, offset: number): number[] {
    return this.stmts.visibleFacesOf.all(personId, limit, offset).map((r) => r.face_id);
  }

  /** Forgets every placement clustering made (the user's stay): before a full re-cluster. */
  clearClusterAssignments(): void {
    this.stmts.clearClusterAssignments.run();
  }

  reject(faceId: number, personId: number, at: string): void {
    this.stmts.reject.run(faceId, personId, at);
  }

  unreject(faceId: number, personId: number): void {
    this.stmts.unreject.run(faceId, personId);
  }

  /** Face id → the people it is not. */
  rejections(): Map<number, Set<number>> {
    const out = new Map<number, Set<number>>();
    for (const r of this.stmts.rejections.iterate()) {
      let s = out.get(r.face_id);
      if (!s) out.set(r.face_id, (s = new Set()));
      s.add(r.person_id);
    }
    return out;
  }

  /** People with this name (case-insensitive). */
  idsNamed(name: string): number[] {
    return this.stmts.idsNamed.all(name).map((r) => r.id);
  }

  /** Faces the user said are not this person. */
  rejectedFacesOf(personId: number): number[] {
    return this.stmts.rejectedFacesOf.all(personId).map((r) => r.face_id);
  }

  rejectionsOf(faceId: number): { person_id: number; at: string }[] {
    return this.stmts.rejectionsOf.all(faceId);
  }

  /** After a merge: "not B" becomes "not A" (where the face is not already "not A"). */
  moveRejections(fromPersonId: number, toPersonId: number): void {
    this.stmts.moveRejections.run(toPersonId, fromPersonId);
  }

  // ---- the user's word across a re-analysis (face rows are replaced)

  userWordOfPhoto(photoId: number): {
    assignments: { personId: number; at: string; box: Box }[];
    rejections: { personId: number; at: string; box: Box }[];
  } {
    const box = (r: { x: number; y: number; w: number; h: number }) => ({ x: r.x, y: r.y, w: r.w, h: r.h });
    return {
      assignments: this.stmts.userAssignmentsOfPhoto
        .all(photoId)
        .map((r) => ({ personId: r.person_id, at: r.assigned_at, box: box(r) })),
      rejections: this.stmts.rejectionsOfPhoto
        .all(photoId)
        .map((r) => ({ personId: r.person_id, at: r.at, box: box(r) })),
    };
  }

  /** The last face id incremental assignment has seen (faces above it are new to clustering). */
  watermark(): number {
    const row = this.stmts.watermark.get();
    return row ? Number(JSON.parse(row.value)) : 0;
  }

  setWatermark(faceId: number): void {
    this.stmts.setWatermark.run(JSON.stringify(faceId));
  }

  // ---- undo log

  pushAction(kind: string, undo: unknown, at: string): void {
    this.stmts.pushAction.run(kind, JSON.stringify(undo), at);
  }

  lastAction(): { id: number; kind: string; undo: unknown; at: string } | undefined {
    const row = this.stmts.lastAction.get();
    return row ? { ...row, undo: JSON.parse(row.undo) as unknown } : undefined;
  }

  dropAction(id: number): void {
    this.stmts.dropAction.run(id);
  }
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
