/**
 * Face analysis of an image the library has already decoded (so thumbnails reuse the same pixels),
 * exactly as `FaceAnalyzer.analyze` does after its own decode.
 *
 * The engine has no public "analyse decoded pixels" entry yet; this reaches its private `describe`
 * through TypeScript's element-access escape hatch. Proposed engine change (reported): split
 * `analyze(input)` into `decodeForAnalysis` + a public `analyzeDecoded(image)` and call that here.
 */
import type { AnalyzedFace, FaceAnalyzer } from '../engine/analyzer.js';
import type { Detection } from '../engine/detection/mtcnn.js';
import type { Attributes } from '../engine/attributes/networks.js';
import type { DecodedImage } from '../engine/image/decode.js';
import { AreaSampler } from '../engine/image/resample.js';

export async function analyzeDecoded(analyzer: FaceAnalyzer, image: DecodedImage): Promise<AnalyzedFace[]> {
  const sampler = new AreaSampler(image);
  const detections = await analyzer.detector.detect(image, sampler);
  const attributes = await analyzer.attributes(image, sampler, detections);
  const describe = analyzer['describe'] as (
    image: DecodedImage,
    sampler: AreaSampler,
    detection: Detection,
    attributes: Attributes,
  ) => AnalyzedFace;
  return detections.map((d, i) => describe.call(analyzer, image, sampler, d, attributes[i] ?? {}));
}
