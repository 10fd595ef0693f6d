/** The `settings` table: the app's `Settings`, one JSON value per key, defaults for what is unset. */
import type { Settings } from '../../api/contract.js';
import { isRecord } from '../../api/handlers.js';
import { DEFAULT_MTCNN } from '../../engine/detection/mtcnn.js';
import { DEFAULT_DECODE } from '../../engine/image/decode.js';
import type { Db } from '../db.js';

export const DEFAULT_SETTINGS: Settings = {
  folders: [],
  analysis: {
    maxSide: DEFAULT_DECODE.maxSide,
    minFaceSize: DEFAULT_MTCNN.minFaceSize,
    thresholds: [...DEFAULT_MTCNN.thresholds],
    tiltedFaces: false,
  },
  provider: 'auto',
  theme: 'system',
  hideEthnicity: false,
  xmp: { keepUpToDate: false, sidecar: 'jpg.xmp', keywords: ['ageGroup', 'gender', 'emotion'] },
  symlinks: 'follow',
};

export class SettingsRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      all: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings'),
      put: db.prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  get(): Settings {
    const settings: Settings = structuredClone(DEFAULT_SETTINGS);
    for (const { key, value } of this.stmts.all.all()) {
      if (!(key in settings)) continue;
      const stored = JSON.parse(value) as unknown;
      const fallback = (settings as unknown as Record<string, unknown>)[key];
      // A group stored by an older version lacks the fields added since: they keep their defaults.
      (settings as unknown as Record<string, unknown>)[key] =
        isRecord(stored) && isRecord(fallback) ? { ...fallback, ...stored } : stored;
    }
    return settings;
  }

  /** Stores the given keys (already validated) and returns the whole settings. */
  update(changes: Partial<Settings>): Settings {
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(changes)) {
        if (value !== undefined) this.stmts.put.run(key, JSON.stringify(value));
      }
    })();
    return this.get();
  }
}
