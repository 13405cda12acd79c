import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resizeRgb } from '../src/resize/resize-image';
import { zonePlateImage } from './synthetic-images';

/**
 * SHA-256 of the 8-bit outputs that real Pillow 9.4 (`Image.resize(BILINEAR)`) and real
 * torchvision 0.14 / torch 1.13 (`resize(uint8 tensor, antialias=True)`, the float path) produced
 * for the 1536×1024 zone plate of `synthetic-images.ts`, saved as PNG and read back in Python.
 * A single differing byte changes the hash.
 */
const inputHash = '00a47cd80d6d38d7957d271695b1951270e527e803889bc97433474ad8453f47';
const pillowHashes: Record<number, string> = {
  768: '85275b641953435b1a0a2d3e17b6ee23a9233a1ab2efd19c78529245d91c673b',
  512: '83b0cccd0bb192c875c83bd561ce6d2167a960d15e7f1d52decf4a2da9a39b73',
  256: 'd8c92262075cb5157625095646d48cd4000cc1984c63cd7ffe9702b5dd6f07b1',
};
const torchvision768Hash = '81919c9fc0fa67f110e9d8305688c092a55da3b5870515c48fbbd7a3bddbc814';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('1536×1024 zone plate against recorded Pillow and torchvision outputs', () => {
  const image = zonePlateImage(1536, 1024);

  it('the generated input is the one the recordings were made from', () => {
    expect(sha256(image.data)).toBe(inputHash);
  });

  for (const size of [768, 512, 256]) {
    it(`pillow arithmetic equals Pillow byte for byte at ${size}×${size}`, () => {
      const result = resizeRgb(image, { width: size, height: size, antialiasArithmetic: 'pillow' });
      expect(sha256(result.data)).toBe(pillowHashes[size]);
    });
  }

  it('torchvision-float32 (the default) equals torchvision byte for byte at 768×768', () => {
    const result = resizeRgb(image, { width: 768, height: 768 });
    expect(sha256(result.data)).toBe(torchvision768Hash);
  });

  it('torchvision-uint8 stays within one 8-bit step of Pillow (same algorithm, int16 weights)', () => {
    const pillow = resizeRgb(image, { width: 768, height: 768, antialiasArithmetic: 'pillow' }).data;
    const uint8 = resizeRgb(image, { width: 768, height: 768, antialiasArithmetic: 'torchvision-uint8' }).data;
    let largest = 0;
    for (let index = 0; index < pillow.length; index++) largest = Math.max(largest, Math.abs((pillow[index] as number) - (uint8[index] as number)));
    expect(largest).toBeLessThanOrEqual(1);
  });
});
