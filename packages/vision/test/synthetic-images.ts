import type { RgbPixels } from '../src/image/image-pixels';

/**
 * A deterministic "natural-ish" test image with the content that separates resize filters:
 * a zone plate (a chirp whose frequency rises towards the corners, so a 2× downscale without
 * antialiasing folds it into false low-frequency rings) in red, fine 1- and 2-pixel stripes and
 * a checkerboard over smooth shading in green, and a smooth diagonal gradient in blue.
 */
export function zonePlateImage(width: number, height: number): RgbPixels {
  const data = new Uint8Array(width * height * 3);
  const centreX = width / 2;
  const centreY = height / 2;
  const chirp = Math.PI / Math.max(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const dx = x - centreX;
      const dy = y - centreY;
      data[offset] = Math.round(127.5 + 127.5 * Math.cos(chirp * (dx * dx + dy * dy)));
      const shade = (96 * (x + y)) / (width + height);
      let texture: number;
      if (y < height / 3) texture = x % 2 === 0 ? 150 : 0; // 1-pixel stripes
      else if (y < (2 * height) / 3) texture = (x >> 1) % 2 === 0 ? 150 : 0; // 2-pixel stripes
      else texture = ((x >> 2) + (y >> 2)) % 2 === 0 ? 150 : 0; // 4-pixel checkerboard
      data[offset + 1] = Math.round(shade + texture);
      data[offset + 2] = Math.round((255 * (x / width + y / height)) / 2);
    }
  }
  return { width, height, channels: 3, data };
}

/** Deterministic uniform random RGB bytes (xorshift32). */
export function randomRgbImage(width: number, height: number, seed: number): RgbPixels {
  let state = seed >>> 0 || 1;
  const data = new Uint8Array(width * height * 3);
  for (let index = 0; index < data.length; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    data[index] = state & 255;
  }
  return { width, height, channels: 3, data };
}
