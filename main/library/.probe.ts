import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { decodePhoto } from './decoders.js';
const s = readFileSync('node_modules/@vladmandic/face-api/demo/sample5.jpg');
const variants: Record<string, Buffer> = {
  headerPlusRandom: Buffer.concat([s.subarray(0, 700), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251))]),
  middleZeroed: Buffer.concat([s.subarray(0, 2000), Buffer.alloc(20000), s.subarray(22000)]),
  sofBroken: (() => { const b = Buffer.from(s); const i = b.indexOf(Buffer.from([0xff, 0xc0])); b.writeUInt16BE(0, i + 5); b.writeUInt16BE(0, i + 7); return b; })(),
};
for (const [k, v] of Object.entries(variants)) {
  try { const d = await decodePhoto(v, 'sharp'); console.log(k, 'decoded', d.width); } catch (e) { console.log(k, (e as Error).message); }
}
let t = performance.now();
const big = await sharp({ create: { width: 12000, height: 10000, channels: 3, background: '#808080' } }).png({ compressionLevel: 9 }).toBuffer();
console.log('png', big.length, performance.now() - t);
t = performance.now();
try { await decodePhoto(big, 'sharp'); } catch (e) { console.log((e as Error).message, performance.now() - t); }
const gif = await sharp(s).resize(200).gif().toBuffer(); console.log('gif', (await decodePhoto(gif, 'sharp')).format);
const avif = await sharp(s).resize(300).avif().toBuffer(); console.log('avif', (await decodePhoto(avif, 'sharp')).format);
const tif = await sharp(s).resize(300).tiff().toBuffer(); console.log('tif', (await decodePhoto(tif, 'sharp')).format);
