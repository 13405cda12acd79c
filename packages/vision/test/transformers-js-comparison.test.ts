import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoImageProcessor, env, RawImage } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbPixels } from '../src/image/image-pixels';
import { pixelValues } from '../src/preprocess/pixel-values';
import { preprocessorOptionsFromConfig } from '../src/preprocess/preprocessor-options';
import { randomRgbImage, zonePlateImage } from './synthetic-images';

/**
 * transformers.js 4.3.2 (the comparison oracle) on the same pixels: its image processor for
 * Gemma 3n's `preprocessor_config.json`, loaded the way it loads a model folder.
 */
const gemma3nImageConfig = {
  image_processor_type: 'SiglipImageProcessorFast',
  processor_class: 'Gemma3nProcessor',
  do_convert_rgb: true,
  do_normalize: false,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
  resample: 2,
  rescale_factor: 0.00392156862745098,
  size: { height: 768, width: 768 },
};

let folder: string;
let transformersJs: (image: RawImage) => Promise<{ pixel_values: { data: Float32Array; dims: number[] } }>;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'gemma3n-vision-'));
  writeFileSync(join(folder, 'preprocessor_config.json'), JSON.stringify(gemma3nImageConfig));
  env.allowRemoteModels = false;
  const processor = await AutoImageProcessor.from_pretrained(folder, { local_files_only: true });
  expect(processor.constructor.name).toBe('SiglipImageProcessor');
  transformersJs = (image) => processor(image) as never;
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function theirs(image: RgbPixels): Promise<Float32Array> {
  const output = await transformersJs(new RawImage(new Uint8ClampedArray(image.data), image.width, image.height, 3));
  expect(output.pixel_values.dims).toEqual([1, 3, 768, 768]);
  return output.pixel_values.data;
}

function differences(a: Float32Array, b: Float32Array, floor = 0) {
  expect(a.length).toBe(b.length);
  let largest = 0;
  let total = 0;
  let mismatched = 0;
  for (let index = 0; index < a.length; index++) {
    const difference = Math.abs((a[index] as number) - (b[index] as number));
    largest = Math.max(largest, difference);
    total += difference;
    if (difference > floor) mismatched++;
  }
  return { largest, mean: total / a.length, mismatchedFraction: mismatched / a.length };
}

describe('transformers.js (sharp, plain bilinear) against this package', () => {
  const options = preprocessorOptionsFromConfig(gemma3nImageConfig);

  it('the Hugging Face resize differs from transformers.js on a downscaled high-frequency image', async () => {
    const image = zonePlateImage(1536, 1024);
    const ours = pixelValues([image], options).data;
    // The 1e-6 floor leaves out last-bit differences of the two rescale arithmetics.
    const figures = differences(ours, await theirs(image), 1e-6);
    console.log(
      `zone plate 1536×1024 → 768×768, bilinear-antialias vs transformers.js: max ${figures.largest.toFixed(4)}, mean ${figures.mean.toFixed(4)} (in [0, 1] units), ${(100 * figures.mismatchedFraction).toFixed(1)}% of values differ by more than 1e-6`,
    );
    // Aliasing: stripes and the zone plate's outer rings are averaged by the HF filter and
    // point-sampled by transformers.js, so whole stripes come out at opposite ends of the range.
    expect(figures.largest).toBeGreaterThan(0.5);
    expect(figures.mean).toBeGreaterThan(0.02);
  });

  for (const [width, height] of [
    [1536, 1024],
    [1000, 700],
    [333, 500],
    [1001, 999],
    [100, 80],
    [37, 23],
  ] as const) {
    it(`resample 'bilinear' reproduces transformers.js's numbers, ${width}×${height} random bytes → 768×768`, async () => {
      const image = randomRgbImage(width, height, width * 7 + height);
      const ours = pixelValues([image], { ...options, resample: 'bilinear' }).data;
      const figures = differences(ours, await theirs(image));
      console.log(
        `${width}×${height} → 768×768, bilinear vs transformers.js: ${(100 * figures.mismatchedFraction).toFixed(4)}% of values differ, max ${(figures.largest * 255).toFixed(3)}/255`,
      );
      // With 'bilinear' the rescale follows transformers.js too (float64 1/255), so equal bytes
      // give bit-identical floats and every difference counted here is a resize difference.
      expect(figures.largest).toBeLessThan(1 / 255 + 1e-6);
      expect(figures.mismatchedFraction).toBeLessThan(0.005);
      if (width === 1536) expect(figures.mismatchedFraction).toBe(0);
    });
  }
});
