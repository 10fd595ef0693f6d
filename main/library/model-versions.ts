/** The networks and heads in use, as Settings → Advanced lists them (name, where it comes from, short hash). */
import { readManifest } from '../engine/manifest.js';
import { activeHeadsDir, readHeadsManifest } from '../engine/attributes/heads.js';
import { modelsDir } from '../paths.js';

export interface ModelVersion {
  name: string;
  /** The package and version it was converted from, or where heads came from. */
  source: string;
  /** First 12 hex digits of the ONNX file's SHA-256. */
  version: string;
}

export function modelVersions(): ModelVersion[] {
  const out: ModelVersion[] = [];
  try {
    const manifest = readManifest(modelsDir());
    for (const m of manifest.models) {
      const source = manifest.sources[m.source];
      out.push({
        name: m.name,
        source: source ? `${source.name}@${source.version}` : m.source,
        version: m.sha256.slice(0, 12),
      });
    }
  } catch {
    // No manifest (a broken install): the list stays empty; `facets models` reports the problem.
  }
  try {
    const heads = readHeadsManifest(activeHeadsDir())?.active;
    if (heads) {
      out.push({
        name: 'heads',
        source:
          heads.origin === 'corrections' ? 'fine-tuned on your corrections' : (heads.provenance?.recipe ?? 'trained'),
        version: heads.sha256.slice(0, 12),
      });
    }
  } catch {
    // Unreadable heads manifest: the engine reports it.
  }
  return out;
}
