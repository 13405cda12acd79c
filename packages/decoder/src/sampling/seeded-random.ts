/**
 * A small seeded pseudo-random generator, so that sampling with a `seed` is reproducible on
 * every JavaScript engine (Math.random cannot be seeded). The generator is xoshiro128**,
 * seeded through splitmix32: fast, 32-bit only (no BigInt), and with a 2^128 − 1 period,
 * which is far more than any generation needs.
 */
export interface RandomSource {
  /** A uniform number in [0, 1). */
  next(): number;
}

function splitmix32(state: number): () => number {
  let value = state >>> 0;
  return () => {
    value = (value + 0x9e3779b9) >>> 0;
    let mixed = value;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    return (mixed ^ (mixed >>> 16)) >>> 0;
  };
}

/**
 * Creates a generator from an integer seed. Seeds are reduced modulo 2^32 after mixing in
 * the high bits, so `1` and `2 ** 32 + 1` give different sequences.
 */
export function createSeededRandom(seed: number): RandomSource {
  const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
  const seeder = splitmix32((seed >>> 0) ^ Math.imul(high, 0x27d4eb2d));
  let s0 = seeder();
  let s1 = seeder();
  let s2 = seeder();
  let s3 = seeder();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  return {
    next(): number {
      const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9) >>> 0;
      const shifted = (s1 << 9) >>> 0;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= shifted;
      s3 = rotateLeft(s3, 11);
      return result / 0x1_0000_0000;
    },
  };
}

function rotateLeft(value: number, bits: number): number {
  return ((value << bits) | (value >>> (32 - bits))) >>> 0;
}

/** A seed for callers that gave none: different on every call, not reproducible. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x1_0000_0000);
}
