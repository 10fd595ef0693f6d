import { FaceAnalyzer } from './main/engine/analyzer.js';
const a = new FaceAnalyzer(undefined, JSON.parse(process.argv[2] ?? '{}'));
const f = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';
await a.analyze(f);
const t: number[] = [];
for (let i = 0; i < 5; i++) { const s = performance.now(); const r = await a.analyze(f); t.push(performance.now() - s); if (i===4) console.log(r.timings, r.faces.length, a.detector.stats); }
console.log('median ms', t.sort((x,y)=>x-y)[2]);
