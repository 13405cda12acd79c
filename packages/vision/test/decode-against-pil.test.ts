import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadImage, toRgb } from '../src/node';

/**
 * Small encoded images (scripts/make-decode-fixtures.mjs) and what PIL 9.4 decodes from them the
 * way HF's `load_image` does — `Image.open`, `ImageOps.exif_transpose`, `convert('RGB')` —
 * recorded by scripts/record-decode-fixtures.py as the SHA-256 of the RGB bytes.
 */
const folder = new URL('./__fixtures__/decode/', import.meta.url);
const recorded = JSON.parse(readFileSync(new URL('pil-decoded.json', folder), 'utf8')) as {
  pillow: string;
  files: Record<string, { width: number; height: number; rgbSha256: string }>;
};

describe('decoding agrees with PIL byte for byte', () => {
  it('covers JPEG (all 8 EXIF orientations, progressive), lossy WebP, GIF and palette PNG', () => {
    expect(Object.keys(recorded.files).sort()).toEqual([
      'lossy.webp',
      ...Array.from({ length: 8 }, (_, index) => `orientation-${index + 1}.jpg`),
      'palette.gif',
      'palette.png',
      'progressive.jpg',
    ]);
  });

  for (const [name, expected] of Object.entries(recorded.files)) {
    it(name, async () => {
      const image = toRgb(await loadImage(new URL(name, folder)));
      expect([image.width, image.height]).toEqual([expected.width, expected.height]);
      expect(createHash('sha256').update(image.data).digest('hex')).toBe(expected.rgbSha256);
    });
  }
});
