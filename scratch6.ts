import sharp from 'sharp';
import { FaceAnalyzer } from './main/engine/analyzer.js';
import { decodeForAnalysis } from './main/engine/image/decode.js';
import { AreaSampler } from './main/engine/image/resample.js';
import { cropFace } from './main/engine/faces/crop.js';
const a = new FaceAnalyzer();
const f = '../shared/data/eval/utkface-dev/images/10_0_0_20170110215927291.jpg.chip.jpg';
const img = await decodeForAnalysis(f);
const s = new AreaSampler(img);
const [d] = await a.detector.detect(img, s);
console.log(d);
for (const [name, r] of [['b10', { method: 'box', margin: 1 }], ['b15', { method: 'box', margin: 1.5 }], ['a10', { method: 'align', margin: 1 }]] as const) {
  const out = new Float32Array(198 * 198 * 3);
  cropFace(s, d!, r, 198, out, 0, (v) => v);
  await sharp(Buffer.from(Uint8Array.from(out, (v) => Math.max(0, Math.min(255, Math.round(v))))), { raw: { width: 198, height: 198, channels: 3 } }).png().toFile(`/tmp/crop-${name}.png`);
}
await sharp(f).png().toFile('/tmp/crop-orig.png');
