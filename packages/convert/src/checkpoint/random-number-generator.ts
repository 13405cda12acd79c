/**
 * Seeded pseudo-random numbers for reproducible test weights: mulberry32 for uniforms,
 * Box–Muller for normals. Not cryptographic; chosen because it is tiny, fast and gives the
 * same stream on every JavaScript engine.
 */
export class RandomNumberGenerator {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let mixed = this.state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A standard normal sample (mean 0, variance 1). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    // 1 − uniform() lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Fills `target` with mean + standardDeviation · N(0, 1). */
  fillNormal(target: Float32Array, mean: number, standardDeviation: number): Float32Array {
    for (let index = 0; index < target.length; index++) {
      target[index] = mean + standardDeviation * this.normal();
    }
    return target;
  }

  /**
   * Fills `target` uniformly on [mean − √3·σ, mean + √3·σ): the given mean and standard
   * deviation from one uniform draw per value, several times cheaper than normals — for the
   * billions of values of a full-size synthetic checkpoint, where only the scale matters.
   */
  fillUniformWithMoments(target: Float32Array, mean: number, standardDeviation: number): Float32Array {
    const width = 2 * Math.sqrt(3) * standardDeviation;
    const low = mean - width / 2;
    for (let index = 0; index < target.length; index++) target[index] = low + width * this.uniform();
    return target;
  }
}

/**
 * A 32-bit seed for one tensor from the checkpoint seed and the tensor's name (FNV-1a), so
 * each tensor's values depend only on (seed, name): adding a tensor to the list, or reading
 * tensors in another order, leaves every other tensor unchanged.
 */
export function tensorSeed(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  // A second round with the seed keeps seeds that differ in few bits far apart.
  hash ^= Math.imul(seed >>> 0, 0x9e3779b1);
  return hash >>> 0;
}
