/** `facets export --format xmp`: one XMP sidecar per photo (see main/library/xmp/service.ts). */
import path from 'node:path';
import type { XmpSettings } from '../../api/contract.js';
import type { Library } from '../../library/library.js';
import type { ExportItem, ExportSummary } from '../../library/xmp/service.js';
import { peopleOf } from '../../people/library.js';

export interface XmpExportFlags {
  folder?: string;
  sidecar?: string;
  dryRun: boolean;
  json: boolean;
}

const PROGRESS_EVERY_MS = 2000;

export async function exportXmp(library: Library, flags: XmpExportFlags): Promise<number> {
  if (flags.sidecar !== undefined && flags.sidecar !== 'jpg.xmp' && flags.sidecar !== 'xmp') {
    throw new Error(`--sidecar must be jpg.xmp (photo.jpg.xmp) or xmp (photo.xmp), got "${flags.sidecar}"`);
  }
  const err = process.stderr;
  let lastLine = 0;
  peopleOf(library); // people's names go into the sidecars ([Note: xmp-names])
  const summary = await library.xmp.export({
    ...(flags.folder ? { folder: path.resolve(flags.folder) } : {}),
    ...(flags.sidecar ? { sidecar: flags.sidecar as XmpSettings['sidecar'] } : {}),
    dryRun: flags.dryRun,
    onProgress: (done, total, item) => {
      if (item.action === 'failed') err.write(`${err.isTTY ? '\r\x1b[K' : ''}  problem: ${item.problem}\n`);
      const line = `xmp ${done}/${total} photos (${total ? Math.floor((done / total) * 100) : 100}%)`;
      if (err.isTTY) err.write(`\r${line}\x1b[K`);
      else if (Date.now() - lastLine > PROGRESS_EVERY_MS || done === total) {
        lastLine = Date.now();
        err.write(`${line}\n`);
      }
    },
  });
  if (err.isTTY) err.write('\n');
  if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else report(summary);
  return summary.counts.failed > 0 ? 1 : 0;
}

const VERBS: Record<ExportItem['action'], string> = {
  create: 'create',
  update: 'update',
  unchanged: 'unchanged',
  nothing: 'nothing to write',
  failed: 'failed',
};

function report(summary: ExportSummary): void {
  const out = process.stdout;
  const c = summary.counts;
  if (summary.dryRun) {
    for (const item of summary.items) {
      if (item.action !== 'create' && item.action !== 'update') continue;
      out.write(
        `would ${VERBS[item.action]} ${item.sidecar} (${item.regions} region(s), ${item.keywords} keyword(s))\n`,
      );
    }
  }
  const would = summary.dryRun ? 'would be ' : '';
  out.write(
    `XMP sidecars: ${c.create} ${would}created, ${c.update} ${would}updated, ${c.unchanged} unchanged` +
      `${c.nothing ? `, ${c.nothing} photo(s) with nothing to write` : ''}${c.failed ? `, ${c.failed} problem(s)` : ''}.\n`,
  );
  for (const item of summary.items) if (item.action === 'failed') out.write(`  problem: ${item.problem}\n`);
}
