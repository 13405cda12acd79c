import type { InterleavedImage } from './separable-resize';

/**
 * Plain bilinear interpolation (no antialiasing), reproducing what transformers.js computes in
 * Node: `RawImage.resize` calls sharp's `affine([outW / inW, 0, 0, outH / inH], { interpolator:
 * 'bilinear' })`, i.e. libvips `vips_affine` with its fixed-point bilinear interpolator. That
 * differs from the Hugging Face resize in three ways, all kept here on purpose:
 * - no antialiasing: a downscale by 2 reads 2×2 pixels, so high frequencies alias;
 * - corner-aligned coordinates: output pixel X samples input x = X · (inW / outW), not the
 *   pixel-centre `(X + 0.5) · scale − 0.5`, so the image shifts by up to half a pixel;
 * - samples past the right and bottom edges read black (libvips' default background), so an
 *   upscale darkens the last row and column.
 * Arithmetic as libvips: the input position advances by the inverted matrix's step (accumulated
 * in float64, as `vips_affine_gen` does), fractions are truncated to 12 bits
 * (`VIPS_INTERPOLATE_SCALE`), the four weights are formed in integers and the sum is rounded
 * half up.
 */
export function resizeBilinearLikeSharp(
  image: InterleavedImage<Uint8Array>,
  outputWidth: number,
  outputHeight: number,
): InterleavedImage<Uint8Array> {
  const { width, height, channels, data } = image;
  const scaleX = outputWidth / width;
  const scaleY = outputHeight / height;
  // libvips inverts the 2×2 matrix [a 0; 0 d] through its determinant, which is not always
  // bit-identical to 1/a; the step is what it accumulates.
  const determinant = scaleX * scaleY;
  const stepX = scaleY / determinant;
  const stepY = scaleX / determinant;
  const unit = 4096;
  const output = new Uint8Array(outputWidth * outputHeight * channels);
  const rowLength = width * channels;

  for (let outputY = 0; outputY < outputHeight; outputY++) {
    const y = stepY * outputY;
    const top = Math.trunc(y);
    const fractionY = Math.trunc((y - top) * unit);
    const complementY = unit - fractionY;
    const topInside = top < height;
    const bottomInside = top + 1 < height;
    let x = 0;
    for (let outputX = 0; outputX < outputWidth; outputX++, x += stepX) {
      const left = Math.trunc(x);
      const target = (outputY * outputWidth + outputX) * channels;
      if (left >= width || !topInside) continue; // wholly outside: background (0)
      const fractionX = Math.trunc((x - left) * unit);
      const weightBottomRight = (fractionY * fractionX) >> 12;
      const weightTopRight = (complementY * fractionX) >> 12;
      const weightBottomLeft = fractionY - weightBottomRight;
      const weightTopLeft = complementY - weightTopRight;
      const rightInside = left + 1 < width;
      const topLeft = top * rowLength + left * channels;
      const bottomLeft = topLeft + rowLength;
      for (let channel = 0; channel < channels; channel++) {
        const p1 = data[topLeft + channel] as number;
        const p2 = rightInside ? (data[topLeft + channels + channel] as number) : 0;
        const p3 = bottomInside ? (data[bottomLeft + channel] as number) : 0;
        const p4 = rightInside && bottomInside ? (data[bottomLeft + channels + channel] as number) : 0;
        output[target + channel] =
          (weightTopLeft * p1 + weightTopRight * p2 + weightBottomLeft * p3 + weightBottomRight * p4 + unit / 2) >> 12;
      }
    }
  }
  return { width: outputWidth, height: outputHeight, channels, data: output };
}
