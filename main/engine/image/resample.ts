/**
 * Pixel resampling for network inputs, in plain TypeScript over a decoded RGB (or grey) buffer.
 *
 * MTCNN needs a whole-image resize per pyramid scale and then hundreds of small crops (24×24 for R-Net,
 * 48×48 for O-Net) whose source boxes may leave the image. Calling the image library per crop would cost
 * far more than the arithmetic, so crops are cut here: downscaling averages the covered source area
 * (like OpenCV's INTER_AREA, which the reference uses) in O(1) per output pixel through a summed-area
 * table; upscaling samples bilinearly. Parts of a box outside the image read as 0 (zero padding).
 */

export interface PixelImage {
  /** Interleaved pixels, row-major, `channels` bytes per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** AreaSampler's running sums of an RGB image into a 32-bit table (row above + this row's prefix). */
function rgbSums(data: Uint8Array, width: number, height: number, sums: Uint32Array, stride: number): void {
  for (let y = 0; y < height; y++) {
    const above = y * stride;
    const row = above + stride;
    let src = y * width * 3;
    let r = 0;
    let g = 0;
    let b = 0;
    for (let x = 3; x <= width * 3; x += 3, src += 3) {
      r += data[src] as number;
      g += data[src + 1] as number;
      b += data[src + 2] as number;
      sums[row + x] = (sums[above + x] as number) + r;
      sums[row + x + 1] = (sums[above + x + 1] as number) + g;
      sums[row + x + 2] = (sums[above + x + 2] as number) + b;
    }
  }
}

/** A summed-area table per channel, built once per image and shared by every crop. */
export class AreaSampler {
  /**
   * (width + 1) × (height + 1) × channels running sums. 32-bit integers hold every sum exactly up to
   * 16.8 megapixels (255 × pixels < 2³²) at half the memory traffic of doubles; larger images use doubles.
   */
  private readonly sums: Uint32Array | Float64Array;
  private readonly stride: number;

  constructor(readonly image: PixelImage) {
    const { data, width, height, channels } = image;
    this.stride = (width + 1) * channels;
    const size = (height + 1) * this.stride;
    const sums = 255 * width * height < 2 ** 32 ? new Uint32Array(size) : new Float64Array(size);
    this.sums = sums;
    // The common case (an analysed photo, ≤ 16.8 MP, RGB) in a loop of its own: the same sums, 3× faster.
    if (sums instanceof Uint32Array && channels === 3) {
      rgbSums(data, width, height, sums, this.stride);
      return;
    }
    const running = new Float64Array(channels);
    for (let y = 0; y < height; y++) {
      const rowAbove = y * this.stride;
      const row = (y + 1) * this.stride;
      running.fill(0);
      let src = y * width * channels;
      for (let x = 1; x <= width; x++) {
        for (let c = 0; c < channels; c++) {
          const r = (running[c] as number) + (data[src++] as number);
          running[c] = r;
          sums[row + x * channels + c] = (sums[rowAbove + x * channels + c] as number) + r;
        }
      }
    }
  }

  /** Sum of channel c over the integer pixel rectangle [x0, x1) × [y0, y1), clipped to the image. */
  private rectSum(x0: number, y0: number, x1: number, y1: number, c: number): number {
    const { width, height, channels } = this.image;
    const ax = Math.max(0, Math.min(width, x0));
    const bx = Math.max(0, Math.min(width, x1));
    const ay = Math.max(0, Math.min(height, y0));
    const by = Math.max(0, Math.min(height, y1));
    if (bx <= ax || by <= ay) return 0;
    const s = this.sums;
    const st = this.stride;
    return (
      (s[by * st + bx * channels + c] as number) -
      (s[ay * st + bx * channels + c] as number) -
      (s[by * st + ax * channels + c] as number) +
      (s[ay * st + ax * channels + c] as number)
    );
  }

  /** rectSum(…, c) / n of channels 0, 1, 2 into out[o], out[o + 1], out[o + 2], through `transform`. */
  private rgbRectMean(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    n: number,
    out: Float32Array,
    o: number,
    transform: (v: number) => number,
  ): void {
    const { width, height } = this.image;
    const ax = Math.max(0, Math.min(width, x0));
    const bx = Math.max(0, Math.min(width, x1));
    const ay = Math.max(0, Math.min(height, y0));
    const by = Math.max(0, Math.min(height, y1));
    if (bx <= ax || by <= ay) {
      out[o] = transform(0);
      out[o + 1] = transform(0);
      out[o + 2] = transform(0);
      return;
    }
    const s = this.sums;
    const st = this.stride;
    const bb = by * st + bx * 3;
    const tb = ay * st + bx * 3;
    const ba = by * st + ax * 3;
    const ta = ay * st + ax * 3;
    out[o] = transform(((s[bb] as number) - (s[tb] as number) - (s[ba] as number) + (s[ta] as number)) / n);
    out[o + 1] = transform(
      ((s[bb + 1] as number) - (s[tb + 1] as number) - (s[ba + 1] as number) + (s[ta + 1] as number)) / n,
    );
    out[o + 2] = transform(
      ((s[bb + 2] as number) - (s[tb + 2] as number) - (s[ba + 2] as number) + (s[ta + 2] as number)) / n,
    );
  }

  /**
   * Resamples the source rectangle [x, x + w) × [y, y + h) (may extend past the image) to outW × outH,
   * writing `transform(value)` for every channel into `out` at `offset`, NHWC order — or, with
   * `transposed`, with the two spatial axes swapped (axis 1 runs along x).
   */
  crop(
    x: number,
    y: number,
    w: number,
    h: number,
    outW: number,
    outH: number,
    out: Float32Array,
    offset: number,
    transform: (v: number) => number,
    transposed = false,
  ): void {
    const { channels } = this.image;
    const sx = w / outW;
    const sy = h / outH;
    if (sx >= 1 && sy >= 1) {
      this.areaCrop(x, y, sx, sy, outW, outH, out, offset, transform, transposed);
      return;
    }
    for (let j = 0; j < outH; j++) {
      for (let i = 0; i < outW; i++) {
        // Row-major (y, x) output, or column-major (x, y) for networks trained on transposed images.
        let o = offset + (transposed ? i * outH + j : j * outW + i) * channels;
        for (let c = 0; c < channels; c++) {
          out[o++] = transform(this.bilinear(x + (i + 0.5) * sx - 0.5, y + (j + 0.5) * sy - 0.5, c));
        }
      }
    }
  }

  /**
   * Downscaling: every output pixel is the mean of the source pixels it covers, out-of-image pixels
   * counting as zeros. The hot loop of the detector (every pyramid level and every crop), so the column
   * and row bounds are worked out once per crop, not per pixel.
   */
  private areaCrop(
    x: number,
    y: number,
    sx: number,
    sy: number,
    outW: number,
    outH: number,
    out: Float32Array,
    offset: number,
    transform: (v: number) => number,
    transposed: boolean,
  ): void {
    const { width, height, channels } = this.image;
    const sums = this.sums;
    const stride = this.stride;
    const colA = new Int32Array(outW); // clipped first column × channels
    const colB = new Int32Array(outW); // clipped end column × channels
    const colN = new Int32Array(outW); // unclipped width: outside pixels count as zeros
    for (let i = 0; i < outW; i++) {
      const x0 = Math.round(x + i * sx);
      const x1 = Math.max(x0 + 1, Math.round(x + (i + 1) * sx));
      colA[i] = Math.max(0, Math.min(width, x0)) * channels;
      colB[i] = Math.max(0, Math.min(width, x1)) * channels;
      colN[i] = x1 - x0;
    }
    const pixelStep = transposed ? outH * channels : channels;
    for (let j = 0; j < outH; j++) {
      const y0 = Math.round(y + j * sy);
      const y1 = Math.max(y0 + 1, Math.round(y + (j + 1) * sy));
      const ay = Math.max(0, Math.min(height, y0));
      const by = Math.max(0, Math.min(height, y1));
      const top = ay * stride;
      const bottom = by * stride;
      const rowN = y1 - y0;
      let o = offset + (transposed ? j : j * outW) * channels;
      if (channels === 3 && by > ay) {
        // RGB, a row inside the image: the hot case, unrolled (the same sums in the same order).
        for (let i = 0; i < outW; i++, o += pixelStep) {
          const a = colA[i] as number;
          const b = colB[i] as number;
          const n = (colN[i] as number) * rowN;
          if (b <= a) {
            out[o] = transform(0);
            out[o + 1] = transform(0);
            out[o + 2] = transform(0);
            continue;
          }
          const tb = top + b;
          const bb = bottom + b;
          const ta = top + a;
          const ba = bottom + a;
          out[o] = transform(
            ((sums[bb] as number) - (sums[tb] as number) - (sums[ba] as number) + (sums[ta] as number)) / n,
          );
          out[o + 1] = transform(
            ((sums[bb + 1] as number) -
              (sums[tb + 1] as number) -
              (sums[ba + 1] as number) +
              (sums[ta + 1] as number)) /
              n,
          );
          out[o + 2] = transform(
            ((sums[bb + 2] as number) -
              (sums[tb + 2] as number) -
              (sums[ba + 2] as number) +
              (sums[ta + 2] as number)) /
              n,
          );
        }
        continue;
      }
      for (let i = 0; i < outW; i++, o += pixelStep) {
        const a = colA[i] as number;
        const b = colB[i] as number;
        const n = (colN[i] as number) * rowN;
        const empty = b <= a || by <= ay;
        for (let c = 0; c < channels; c++) {
          const sum = empty
            ? 0
            : (sums[bottom + b + c] as number) -
              (sums[top + b + c] as number) -
              (sums[bottom + a + c] as number) +
              (sums[top + a + c] as number);
          out[o + c] = transform(sum / n);
        }
      }
    }
  }

  private bilinear(fx: number, fy: number, c: number): number {
    return bilinearAt(this.image, fx, fy, c);
  }

  /** bilinearAt(…, c) of channels 0, 1, 2 into out[o], out[o + 1], out[o + 2], through `transform`. */
  private rgbBilinear(fx: number, fy: number, out: Float32Array, o: number, transform: (v: number) => number): void {
    const { data, width, height } = this.image;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    const left = x0 >= 0 && x0 < width;
    const right = x0 + 1 >= 0 && x0 + 1 < width;
    const top = y0 >= 0 && y0 < height;
    const bottom = y0 + 1 >= 0 && y0 + 1 < height;
    const i00 = (y0 * width + x0) * 3;
    const i01 = i00 + width * 3;
    for (let c = 0; c < 3; c++) {
      const p00 = top && left ? (data[i00 + c] as number) : 0;
      const p10 = top && right ? (data[i00 + 3 + c] as number) : 0;
      const p01 = bottom && left ? (data[i01 + c] as number) : 0;
      const p11 = bottom && right ? (data[i01 + 3 + c] as number) : 0;
      out[o + c] = transform((1 - ay) * ((1 - ax) * p00 + ax * p10) + ay * ((1 - ax) * p01 + ax * p11));
    }
  }

  /**
   * Samples the output grid through a similarity transform: output pixel centre (u, v) reads the
   * source at (a·u − b·v + tx, b·u + a·v + ty). Where one output pixel spans several source pixels the
   * covered square is averaged (rotation ignored for the footprint, which is fine for faces whose roll
   * the transform removes); otherwise bilinear. Outside the image reads as 0.
   */
  warp(
    transform: Similarity,
    outW: number,
    outH: number,
    out: Float32Array,
    offset: number,
    valueTransform: (v: number) => number,
  ): void {
    const { a, b, tx, ty } = transform;
    const { channels } = this.image;
    const footprint = Math.hypot(a, b);
    let o = offset;
    for (let v = 0; v < outH; v++) {
      for (let u = 0; u < outW; u++) {
        const cu = u + 0.5;
        const cv = v + 0.5;
        const sx = a * cu - b * cv + tx;
        const sy = b * cu + a * cv + ty;
        if (footprint > 1) {
          const half = footprint / 2;
          const x0 = Math.round(sx - half);
          const y0 = Math.round(sy - half);
          const x1 = Math.max(x0 + 1, Math.round(sx + half));
          const y1 = Math.max(y0 + 1, Math.round(sy + half));
          const n = (x1 - x0) * (y1 - y0);
          if (channels === 3) {
            // RGB: the rectangle clipped once for the three channels (rectSum's arithmetic, unrolled).
            this.rgbRectMean(x0, y0, x1, y1, n, out, o, valueTransform);
            o += 3;
          } else {
            for (let c = 0; c < channels; c++) out[o++] = valueTransform(this.rectSum(x0, y0, x1, y1, c) / n);
          }
        } else if (channels === 3) {
          // RGB upsampling (faces smaller than the network's input): bilinearAt's arithmetic, with the
          // weights and bounds worked out once for the three channels.
          this.rgbBilinear(sx - 0.5, sy - 0.5, out, o, valueTransform);
          o += 3;
        } else {
          for (let c = 0; c < channels; c++) out[o++] = valueTransform(this.bilinear(sx - 0.5, sy - 0.5, c));
        }
      }
    }
  }
}

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty: rotation, uniform scale and translation. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity mapping `from` points onto `to` points (Umeyama without reflection).
 */
export function fitSimilarity(
  from: readonly (readonly [number, number])[],
  to: readonly (readonly [number, number])[],
): Similarity {
  const n = from.length;
  if (n !== to.length || n < 2) throw new Error('fitSimilarity needs two equal lists of at least 2 points');
  let fx = 0,
    fy = 0,
    tx = 0,
    ty = 0;
  for (let i = 0; i < n; i++) {
    fx += (from[i] as [number, number])[0];
    fy += (from[i] as [number, number])[1];
    tx += (to[i] as [number, number])[0];
    ty += (to[i] as [number, number])[1];
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let dot = 0,
    cross = 0,
    norm = 0;
  for (let i = 0; i < n; i++) {
    const [px, py] = from[i] as [number, number];
    const [qx, qy] = to[i] as [number, number];
    const ux = px - fx,
      uy = py - fy,
      vx = qx - tx,
      vy = qy - ty;
    dot += ux * vx + uy * vy;
    cross += ux * vy - uy * vx;
    norm += ux * ux + uy * uy;
  }
  if (norm === 0) throw new Error('fitSimilarity: source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

export function invertSimilarity({ a, b, tx, ty }: Similarity): Similarity {
  const d = a * a + b * b;
  const ia = a / d;
  const ib = -b / d;
  return { a: ia, b: ib, tx: -(ia * tx - ib * ty), ty: -(ib * tx + ia * ty) };
}

/** Luma (BT.601 weights) of an RGB image, as a 1-channel image. */
export function toGrey(image: PixelImage): PixelImage {
  const n = image.width * image.height;
  const grey = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = image.data[i * 3] as number;
    const g = image.data[i * 3 + 1] as number;
    const b = image.data[i * 3 + 2] as number;
    grey[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  return { data: grey, width: image.width, height: image.height, channels: 1 };
}

/** Channel c at the continuous index-space point (fx, fy), bilinearly; outside the image reads as 0. */
function bilinearAt(image: PixelImage, fx: number, fy: number, c: number): number {
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const ax = fx - x0;
  const ay = fy - y0;
  return (
    (1 - ay) * ((1 - ax) * pixelAt(image, x0, y0, c) + ax * pixelAt(image, x0 + 1, y0, c)) +
    ay * ((1 - ax) * pixelAt(image, x0, y0 + 1, c) + ax * pixelAt(image, x0 + 1, y0 + 1, c))
  );
}

function pixelAt(image: PixelImage, px: number, py: number, c: number): number {
  const { data, width, height, channels } = image;
  return px < 0 || py < 0 || px >= width || py >= height ? 0 : (data[(py * width + px) * channels + c] as number);
}

/** An image turned about its centre, and the way back to the source image's coordinates. */
export interface RotatedImage {
  image: PixelImage;
  /** A point of the rotated image (continuous pixel coordinates) in the source image. */
  toSource(x: number, y: number): [number, number];
  /** A point of the source image in the rotated image. */
  fromSource(x: number, y: number): [number, number];
}

/** The canvas that holds a width × height image turned clockwise by `degrees`, and its point mappings. */
export function rotationGeometry(
  width: number,
  height: number,
  degrees: number,
): { width: number; height: number } & Omit<RotatedImage, 'image'> {
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const outW = Math.max(1, Math.ceil(Math.abs(width * cos) + Math.abs(height * sin) - 1e-9));
  const outH = Math.max(1, Math.ceil(Math.abs(width * sin) + Math.abs(height * cos) - 1e-9));
  const [cx, cy, ox, oy] = [width / 2, height / 2, outW / 2, outH / 2];
  // Clockwise on screen (y down): turned = R·(p − c) + o with R = [cos −sin; sin cos]; back with Rᵀ.
  return {
    width: outW,
    height: outH,
    toSource: (x, y) => [cos * (x - ox) + sin * (y - oy) + cx, -sin * (x - ox) + cos * (y - oy) + cy],
    fromSource: (x, y) => [cos * (x - cx) - sin * (y - cy) + ox, sin * (x - cx) + cos * (y - cy) + oy],
  };
}

/**
 * Turns an image clockwise by `degrees` about its centre onto a canvas that holds all of it (corners
 * read as 0), sampling bilinearly. Used for the detector's extra passes on rolled faces.
 */
export function rotateImage(source: PixelImage, degrees: number): RotatedImage {
  const { width, height, channels } = source;
  const geometry = rotationGeometry(width, height, degrees);
  const { width: outW, height: outH } = geometry;
  const out = new Uint8Array(outW * outH * channels);
  // The source point of output pixel centre (u + ½, v + ½), less ½ for index space, moves by (dxdu,
  // dydu) per column: toSource is affine, so it is stepped rather than called per pixel.
  const [x00, y00] = geometry.toSource(0.5, 0.5);
  const [x10, y10] = geometry.toSource(1.5, 0.5);
  const [x01, y01] = geometry.toSource(0.5, 1.5);
  const [dxdu, dydu, dxdv, dydv] = [x10 - x00, y10 - y00, x01 - x00, y01 - y00];
  for (let v = 0; v < outH; v++) {
    let fx = x00 + v * dxdv - 0.5;
    let fy = y00 + v * dydv - 0.5;
    for (let u = 0; u < outW; u++, fx += dxdu, fy += dydu) {
      if (fx < -1 || fy < -1 || fx >= width || fy >= height) continue; // wholly outside: stays 0
      const o = (v * outW + u) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = Math.round(bilinearAt(source, fx, fy, c));
    }
  }
  return { image: { data: out, width: outW, height: outH, channels }, ...geometry };
}
