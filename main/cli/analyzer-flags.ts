/** Analysis options shared by `analyze`, `eval` and `scan`. */
import type { AnalyzerOptions, Assignment } from '../engine/analyzer.js';
import { DEFAULT_ASSIGNMENT } from '../engine/analyzer.js';
import { measuredAssignment } from '../engine/attributes/heads.js';
import type { TemplateName } from '../engine/faces/crop.js';

export const analyzerFlags = {
  options: {
    'max-side': { type: 'string' },
    'min-face': { type: 'string' },
    thresholds: { type: 'string' },
    rotations: { type: 'string' },
    greyscale: { type: 'boolean', default: false },
    assign: { type: 'string' },
    crop: { type: 'string' },
    'no-close-ups': { type: 'boolean', default: false },
    'no-mirror': { type: 'boolean', default: false },
  },
  help: [
    '--max-side <px>     longest side analysed (default 1280; larger photos are shrunk on load)',
    '--min-face <px>     smallest face searched, in analysed pixels (default 20)',
    '--thresholds a,b,c  P-Net, R-Net, O-Net score thresholds (default 0.6,0.7,0.9; the paper: 0.6,0.7,0.7)',
    '--rotations a,b     extra detection passes on the photo turned by these degrees, for rolled faces',
    '                    (default none; write --rotations=-35,35: the value starts with a dash)',
    "--greyscale         analyse in greyscale (the paper's variant)",
    '--assign k=net,…    which network serves an attribute, e.g. age=gear,emotion=faceapi-expression',
    '--crop net=box:1.2  crop recipe per network: box, or aligned to a template (arcface, utkface, fer,',
    '                    fairface), with a margin factor',
    '--no-close-ups      where no face is found, do not look again in the photo mirror-extended at its',
    '                    borders (the pass that finds faces cut by a tight crop or a close-up)',
    '--no-mirror         do not also run the emotion networks on the mirrored face (test-time mirroring)',
  ],
} as const;

type Values = Partial<Record<keyof typeof analyzerFlags.options, string | boolean | undefined>>;

function number(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${value}"`);
  return n;
}

export function analyzerOptionsFrom(values: Values): Partial<AnalyzerOptions> {
  const options: Partial<AnalyzerOptions> = { decode: {}, detection: {} };
  if (typeof values['max-side'] === 'string') options.decode!.maxSide = number('max-side', values['max-side']);
  if (values.greyscale === true) options.decode!.greyscale = true;
  if (values['no-close-ups'] === true) options.closeUps = false;
  if (values['no-mirror'] === true) options.mirror = false;
  if (typeof values['min-face'] === 'string') options.detection!.minFaceSize = number('min-face', values['min-face']);
  if (typeof values.thresholds === 'string') {
    const t = values.thresholds.split(',').map((v) => number('thresholds', v));
    if (t.length !== 3) throw new Error('--thresholds takes three numbers');
    options.detection!.thresholds = t as [number, number, number];
  }
  if (typeof values.rotations === 'string') {
    options.detection!.rotations = values.rotations
      .split(',')
      .filter((v) => v.trim() !== '')
      .map((v) => number('rotations', v));
  }
  if (typeof values.assign === 'string') {
    // Only the named attributes change: the rest stay as a plain run serves them (heads where measured better).
    const assignment: Assignment = { ...measuredAssignment(DEFAULT_ASSIGNMENT) };
    for (const pair of values.assign.split(',')) {
      const [key, net] = pair.split('=');
      if (!key || !(key in assignment) || net === undefined) throw new Error(`bad --assign entry "${pair}"`);
      assignment[key as keyof Assignment] = net === 'none' ? null : net;
    }
    options.assignment = assignment;
  }
  if (typeof values.crop === 'string') {
    options.recipes = {};
    for (const pair of values.crop.split(',')) {
      const m = /^([\w-]+)=(box|arcface|utkface|fer|fairface):([\d.]+)$/.exec(pair);
      if (!m)
        throw new Error(`bad --crop entry "${pair}" (expected net=box:1.2 or net=utkface:1, arcface, fer, fairface)`);
      const [, net, how, margin] = m as unknown as [string, string, string, string];
      options.recipes[net] =
        how === 'box'
          ? { method: 'box', margin: Number(margin) }
          : { method: 'align', margin: Number(margin), template: how as TemplateName };
    }
  }
  return options;
}
