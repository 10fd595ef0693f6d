/**
 * People in a library: clustering faces into people as scans add them, a full re-cluster, and the
 * user's word (name, merge, move out, confirm, hide, undo), which always wins. Shared by the CLI and
 * the back end.
 *
 * [Note: user's word] A face the user placed or confirmed ('user' in face_people) is never moved by
 * clustering, a face the user took out of a person (face_person_rejections) is never put back there,
 * and re-analysis of a changed photo hands both to the new face it overlaps (Catalog). Merging two
 * people confirms all their faces: the user said they are one person.
 */
import { type Db, now } from '../library/db.js';
import type { ImportedNames } from '../library/xmp/service.js';
import {
  type AssignmentRow,
  type ClusterFaceRow,
  type PeopleRepository,
  type PersonRow,
  blobVector,
} from '../library/repositories/people.js';
import { type ClusterAlgorithm, clusterFaces } from './cluster.js';
import { trainIndex } from './knn.js';
import { IvfIndex, VectorSet, distance } from './vectors.js';

/**
 * Chosen on people-dev (docs/people.md): incremental k-NN vote at 0.48 (BCubed F 0.962, pairwise
 * precision 1.000) and, for a full re-cluster, average linkage at 0.52 (F 0.971, precision 0.997) — each
 * on the plateau of its sweep, below the threshold where precision starts to fall.
 */
export const INCREMENTAL = { algorithm: 'vote' as ClusterAlgorithm, threshold: 0.48, k: 30 };
export const FULL = { algorithm: 'average' as ClusterAlgorithm, threshold: 0.52, k: 30 };
/** "Is this Anna?": faces this close to a person's faces, but not placed with them. */
export const SUGGEST_WITHIN = 0.58;

/**
 * Faces too small or blurred to trust their identity vector stay unassigned: the detector's own
 * "uncertain" limits (main/engine/analyzer.ts), 40 px and Laplacian variance 40.
 */
export const MIN_FACE_PX = 40;
export const MIN_SHARPNESS = 40;

export interface PersonInfo {
  id: number;
  name: string | null;
  hidden: boolean;
  faceCount: number;
  coverFaceId: number | null;
}

type Snapshot = {
  people: { id: number; row: PersonRow | null }[];
  assignments: { faceId: number; row: AssignmentRow | null }[];
  rejections: { faceId: number; personIds: number[] }[];
  /** People the action created: undo deletes them again. */
  created?: number[];
};

interface Loaded {
  set: VectorSet;
  faceIds: number[];
  position: Map<number, number>;
  person: (number | null)[];
  source: ('cluster' | 'user' | null)[];
  usable: boolean[];
}

export class PeopleService {
  constructor(
    readonly db: Db,
    readonly repo: PeopleRepository,
    /** The face_embeddings spec of identity vectors (main/engine/attributes/identity.ts). */
    readonly spec: string,
  ) {}

  /**
   * The vectors and index incremental assignment keeps between scans (a million faces' index takes
   * minutes to build, a search milliseconds). Dropped by every user action and re-cluster, which change
   * whom faces belong to; rebuilt on the next assignment.
   */
  private kept: { l: Loaded; index: IvfIndex; through: number } | null = null;

  private forget(): void {
    this.kept = null;
  }

  private load(rows: Iterable<ClusterFaceRow> = this.repo.clusterFaces(this.spec), into?: Loaded): Loaded {
    const l: Loaded = into ?? {
      set: new VectorSet(128, 1024),
      faceIds: [],
      position: new Map(),
      person: [],
      source: [],
      usable: [],
    };
    const set = l.set;
    for (const r of rows) {
      l.position.set(r.faceId, set.add(blobVector(r.vector)));
      l.faceIds.push(r.faceId);
      l.person.push(r.personId);
      l.source.push(r.source);
      l.usable.push(r.faceSize >= MIN_FACE_PX && r.sharpness >= MIN_SHARPNESS);
    }
    return l;
  }

  /**
   * Incremental assignment: every face new since the last call (in id order, i.e. as scans stored
   * them) joins the person most of its nearest earlier faces belong to, or pairs up with a face no
   * person holds yet into a new person, or waits alone. Returns the faces placed.
   */
  async assignNew(): Promise<number> {
    const watermark = this.repo.watermark();
    if (this.kept && this.kept.through !== watermark) this.forget();
    let from = 0;
    if (this.kept) {
      from = this.kept.l.faceIds.length;
      this.load(this.repo.clusterFacesAfter(this.spec, watermark), this.kept.l);
    } else {
      // The faces earlier calls placed are filed at once and the index trained by the kernel (knn.ts):
      // at a million faces the index's own JavaScript training took over half an hour.
      const l = this.load();
      const index = new IvfIndex(l.set);
      while (from < l.faceIds.length && (l.faceIds[from] as number) <= watermark) from++;
      index.fileAll(l.faceIds.slice(0, from).flatMap((_, i) => (l.usable[i] ? [i] : [])));
      await trainIndex(index);
      // Another call may have run meanwhile: its index is as good, and its watermark decides.
      if (this.kept || this.repo.watermark() !== watermark) return 0;
      this.kept = { l, index, through: watermark };
    }
    const { l, index } = this.kept;
    const rejections = this.repo.rejections();
    let placed = 0;
    let last = watermark;
    const at = now();
    this.db
      .transaction(() => {
        for (let i = from; i < l.faceIds.length; i++) {
          const faceId = l.faceIds[i] as number;
          if (faceId > watermark && l.person[i] === null && l.usable[i]) {
            const target = this.vote(l, index, i, rejections.get(faceId));
            if (target) {
              let personId = target.personId;
              if (personId === null) {
                personId = this.repo.createPerson(null, at);
                this.repo.assign(l.faceIds[target.singleton] as number, personId, 'cluster', at);
                l.person[target.singleton] = personId;
                placed++;
              }
              this.repo.assign(faceId, personId, 'cluster', at);
              l.person[i] = personId;
              placed++;
            }
          }
          if (l.usable[i]) index.add(i);
          last = Math.max(last, faceId);
        }
        this.repo.setWatermark(last);
      })
      .immediate();
    this.kept.through = last;
    return placed;
  }

  /** The k-NN vote for face i among the faces indexed so far (see main/people/cluster.ts 'vote'). */
  private vote(
    l: Loaded,
    index: IvfIndex,
    i: number,
    rejected: ReadonlySet<number> | undefined,
  ): { personId: number | null; singleton: number } | null {
    const near = index.search(l.set.row(i), INCREMENTAL.k, INCREMENTAL.threshold, i);
    const votes = new Map<string, { n: number; personId: number | null; singleton: number; d: number }>();
    for (const n of near) {
      // Kept vectors may be of faces re-analysed or purged since: only faces still there vote.
      if (!this.repo.faceExists(l.faceIds[n.index] as number)) continue;
      const p = l.person[n.index] ?? null;
      if (p !== null && rejected?.has(p)) continue;
      const key = p === null ? `f${n.index}` : `p${p}`;
      const v = votes.get(key) ?? { n: 0, personId: p, singleton: n.index, d: n.distance };
      v.n++;
      votes.set(key, v);
    }
    let best: { n: number; personId: number | null; singleton: number; d: number } | null = null;
    for (const v of votes.values()) if (!best || v.n > best.n || (v.n === best.n && v.d < best.d)) best = v;
    // A person since merged away, or a lone face placed since by another process: no safe target.
    if (best && best.personId !== null && !this.repo.person(best.personId)) return null;
    if (best && best.personId === null && this.repo.assignment(l.faceIds[best.singleton] as number)) return null;
    return best;
  }

  /**
   * A full re-cluster: every placement clustering made is dropped and made again from all faces at
   * once; the user's placements stay, anchor their clusters, and keep people's ids (and names).
   */
  async recluster(): Promise<{ people: number; assigned: number }> {
    this.forget();
    const l = this.load();
    const usableIdx = l.faceIds.map((_, i) => i).filter((i) => l.usable[i]);
    const set = new VectorSet(l.set.dim, usableIdx.length);
    for (const i of usableIdx) set.add(l.set.row(i));
    // The graph is computed off the database (seconds at 100,000 faces): what the user does meanwhile is
    // read again inside the transaction below, and wins.
    const labels = await clusterFaces(set, { algorithm: FULL.algorithm, threshold: FULL.threshold, k: FULL.k });
    this.forget();
    const rejections = this.repo.rejections();
    const members = new Map<number, number[]>();
    labels.forEach((label, j) => members.set(label, [...(members.get(label) ?? []), usableIdx[j] as number]));
    const at = now();
    let assigned = 0;
    const used = new Set<number>();
    const alive = new Map<number, boolean>();
    const livePerson = (p: number) => {
      let known = alive.get(p);
      if (known === undefined) alive.set(p, (known = this.repo.person(p) !== undefined));
      return known;
    };
    this.db
      .transaction(() => {
        this.repo.clearClusterAssignments();
        // Largest clusters choose their person first.
        const clusters = [...members.values()].sort((a, b) => b.length - a.length);
        for (const faces of clusters) {
          const userFaces = faces.filter((i) => l.source[i] === 'user');
          const free = faces.filter((i) => l.source[i] !== 'user');
          if (free.length === 0) continue;
          const anchors = new Map<number, number[]>();
          for (const i of userFaces)
            anchors.set(l.person[i] as number, [...(anchors.get(l.person[i] as number) ?? []), i]);
          let target: (i: number) => number | null;
          if (anchors.size > 0) {
            // Each free face goes with the user's person whose confirmed faces are nearest on average.
            target = (i) => {
              let best: { p: number; d: number } | null = null;
              for (const [p, list] of anchors) {
                const d = list.reduce((s, j) => s + distance(l.set.row(i), l.set.row(j)), 0) / list.length;
                if (!best || d < best.d) best = { p, d };
              }
              return best?.p ?? null;
            };
          } else {
            if (faces.length < 2) continue;
            // The person most of these faces had before, if still free; else a new one.
            const before = new Map<number, number>();
            for (const i of free) {
              const p = l.person[i];
              if (p !== null && p !== undefined && !used.has(p)) before.set(p, (before.get(p) ?? 0) + 1);
            }
            let personId: number | null = null;
            let most = 0;
            for (const [p, n] of before) if (n > most) [personId, most] = [p, n];
            if (personId === null || !this.repo.person(personId)) personId = this.repo.createPerson(null, at);
            used.add(personId);
            const chosen = personId;
            target = () => chosen;
          }
          for (const i of free) {
            const p = target(i);
            const faceId = l.faceIds[i] as number;
            if (p === null || rejections.get(faceId)?.has(p)) continue;
            // Gone since the load (photo removed), or placed by the user meanwhile: left as it is now.
            if (!this.repo.faceExists(faceId) || this.repo.assignment(faceId)?.source === 'user') continue;
            if (!livePerson(p)) continue; // merged away meanwhile
            this.repo.assign(faceId, p, 'cluster', at);
            assigned++;
          }
        }
        this.repo.deleteEmptyPeople();
        this.repo.setWatermark(Math.max(0, ...l.faceIds));
      })
      .immediate();
    return { people: this.repo.list(true, 1, 0).total, assigned };
  }

  // ---- reading

  info(p: PersonRow): PersonInfo {
    return {
      id: p.id,
      name: p.name,
      hidden: p.hidden !== 0,
      faceCount: p.face_count,
      coverFaceId: this.repo.coverFace(p),
    };
  }

  list(options: { includeHidden?: boolean; limit?: number; offset?: number } = {}): {
    total: number;
    items: PersonInfo[];
  } {
    const { total, rows } = this.repo.list(options.includeHidden ?? false, options.limit ?? 500, options.offset ?? 0);
    return { total, items: rows.map((r) => this.info(r)) };
  }

  get(id: number): PersonInfo {
    const p = this.repo.person(id);
    if (!p) throw new Error(`no person ${id}`);
    return this.info(p);
  }

  /** People with this name (case-insensitive), for `--person <name>` and search words. */
  idsNamed(name: string): number[] {
    return this.repo.idsNamed(name.trim());
  }

  names(prefix: string, limit = 10): string[] {
    return this.repo.names(prefix, limit);
  }

  /** "Is this Anna?": faces near a person's faces that are not placed with anyone the user confirmed. */
  suggestions(personId: number, limit = 20): { faceId: number; distance: number }[] {
    const l = this.load();
    const index = new IvfIndex(l.set);
    for (let i = 0; i < l.faceIds.length; i++) if (l.usable[i]) index.add(i);
    const rejections = this.repo.rejections();
    const best = new Map<number, number>();
    for (let i = 0; i < l.faceIds.length; i++) {
      if (l.person[i] !== personId) continue;
      for (const n of index.search(l.set.row(i), 20, SUGGEST_WITHIN, i)) {
        const faceId = l.faceIds[n.index] as number;
        if (l.person[n.index] === personId || l.source[n.index] === 'user') continue;
        if (rejections.get(faceId)?.has(personId)) continue;
        best.set(faceId, Math.min(best.get(faceId) ?? Infinity, n.distance));
      }
    }
    return [...best.entries()]
      .map(([faceId, d]) => ({ faceId, distance: d }))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, limit);
  }

  // ---- the user's word (each one action, undoable)

  private act(kind: string, people: number[], faces: number[], change: () => number[] | void): void {
    this.forget();
    this.db
      .transaction(() => {
        const before = this.snapshot(people, faces);
        const created = change();
        this.repo.pushAction(kind, created?.length ? { ...before, created } : before, now());
      })
      .immediate();
  }

  private snapshot(people: readonly number[], faces: readonly number[]): Snapshot {
    return {
      people: [...new Set(people)].map((id) => ({ id, row: this.repo.person(id) ?? null })),
      assignments: [...new Set(faces)].map((faceId) => ({ faceId, row: this.repo.assignment(faceId) ?? null })),
      rejections: [...new Set(faces)].map((faceId) => ({
        faceId,
        personIds: this.repo.rejectionsOf(faceId).map((r) => r.person_id),
      })),
    };
  }

  name(personId: number, name: string | null): PersonInfo {
    this.get(personId);
    const clean = name?.trim() ? name.trim() : null;
    this.act('name', [personId], [], () => this.repo.setName(personId, clean, now()));
    return this.get(personId);
  }

  hide(personId: number, hidden: boolean): PersonInfo {
    this.get(personId);
    this.act(hidden ? 'hide' : 'show', [personId], [], () => this.repo.setHidden(personId, hidden, now()));
    return this.get(personId);
  }

  setCover(personId: number, faceId: number | null): PersonInfo {
    this.get(personId);
    this.act('cover', [personId], [], () => this.repo.setCover(personId, faceId, now()));
    return this.get(personId);
  }

  /** `from` becomes part of `into`: every face of both is confirmed; a name carries over if `into` has none. */
  merge(intoId: number, fromId: number): PersonInfo {
    if (intoId === fromId) throw new Error('a person cannot be merged with itself');
    const into = this.repo.person(intoId);
    const from = this.repo.person(fromId);
    if (!into) throw new Error(`no person ${intoId}`);
    if (!from) throw new Error(`no person ${fromId}`);
    const faces = [...this.repo.facesOf(intoId), ...this.repo.facesOf(fromId)].map((a) => a.face_id);
    const rejectedFaces = this.repo.rejectedFacesOf(fromId);
    this.act('merge', [intoId, fromId], [...faces, ...rejectedFaces], () => {
      const at = now();
      for (const faceId of faces) this.repo.assign(faceId, intoId, 'user', at);
      if (!into.name && from.name) this.repo.setName(intoId, from.name, at);
      this.repo.moveRejections(fromId, intoId);
      this.repo.deletePerson(fromId);
    });
    return this.get(intoId);
  }

  /**
   * [Note: xmp-names] Names another tool gave faces (sidecars, embedded XMP) are the user's word from
   * there: each matched face the user has not placed here, and has not said is not that person, goes with
   * the person of that name — the face's own unnamed cluster takes the name when no one has it yet — as an
   * action undo can take back. Returns how many faces were named.
   */
  importNames(found: ImportedNames): number {
    let named = 0;
    const byName = new Map<string, number[]>();
    for (const m of found.matched) {
      const name = m.name.trim();
      if (!name) continue;
      const current = this.repo.assignment(m.faceId);
      if (current?.source === 'user') continue;
      const person = this.repo.personByName(name);
      if (person && this.repo.rejectionsOf(m.faceId).some((r) => r.person_id === person.id)) continue;
      if (!person && current && !this.repo.person(current.person_id)?.name) {
        this.name(current.person_id, name); // the cluster is that person
      }
      byName.set(name, [...(byName.get(name) ?? []), m.faceId]);
    }
    for (const [name, faceIds] of byName) {
      this.assign(faceIds, { name });
      named += faceIds.length;
    }
    return named;
  }

  /** Puts faces with a person (an existing one, or a new one named `name`) as the user's word. */
  assign(faceIds: readonly number[], target: { personId: number } | { name: string }): PersonInfo {
    let personId = 'personId' in target ? target.personId : (this.repo.personByName(target.name)?.id ?? null);
    const touched = personId !== null ? [personId] : [];
    const previous = faceIds.map((f) => this.repo.assignment(f)?.person_id).filter((p) => p !== undefined);
    this.act('assign', [...touched, ...previous], [...faceIds], () => {
      const at = now();
      const created: number[] = [];
      if (personId === null) {
        personId = this.repo.createPerson('name' in target ? target.name.trim() : null, at);
        created.push(personId);
      } else if (!this.repo.person(personId)) throw new Error(`no person ${personId}`);
      for (const f of faceIds) {
        this.repo.assign(f, personId, 'user', at);
        this.repo.unreject(f, personId);
      }
      return created;
    });
    return this.get(personId as unknown as number);
  }

  /** Confirms faces where they are ("Yes, this is Anna"). */
  confirm(faceIds: readonly number[]): void {
    this.act('confirm', [], [...faceIds], () => {
      const at = now();
      for (const f of faceIds) {
        const a = this.repo.assignment(f);
        if (a) this.repo.assign(f, a.person_id, 'user', at);
      }
    });
  }

  /** "Not Anna": the faces leave their person and are never put back with that person by clustering. */
  moveOut(faceIds: readonly number[]): void {
    const people = faceIds.map((f) => this.repo.assignment(f)?.person_id).filter((p) => p !== undefined);
    this.act('move-out', people, [...faceIds], () => {
      const at = now();
      for (const f of faceIds) {
        const a = this.repo.assignment(f);
        if (!a) continue;
        this.repo.unassign(f);
        this.repo.reject(f, a.person_id, at);
      }
    });
  }

  /** Undoes the last people action; returns its kind, or null when there is none. */
  undo(): string | null {
    const last = this.repo.lastAction();
    if (!last) return null;
    const s = last.undo as Snapshot;
    this.forget();
    this.db
      .transaction(() => {
        const at = now();
        // People first (a merged-away person comes back), then who each face was, then "not" lists.
        for (const p of s.people) if (p.row) this.repo.restorePerson(p.row);
        for (const a of s.assignments) {
          // A face re-analysed since then is another row now: what the user said moved with it already.
          if (!this.repo.faceExists(a.faceId)) continue;
          if (a.row) this.repo.assign(a.faceId, a.row.person_id, a.row.source, a.row.assigned_at);
          else this.repo.unassign(a.faceId);
        }
        for (const r of s.rejections) {
          if (!this.repo.faceExists(r.faceId)) continue;
          for (const x of this.repo.rejectionsOf(r.faceId)) {
            if (!r.personIds.includes(x.person_id)) this.repo.unreject(r.faceId, x.person_id);
          }
          for (const p of r.personIds) this.repo.reject(r.faceId, p, at);
        }
        // People the action created are gone again.
        for (const id of s.created ?? []) this.repo.deletePerson(id);
        this.repo.dropAction(last.id);
      })
      .immediate();
    return last.kind;
  }
}
