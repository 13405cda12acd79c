import { InputError } from '@gemma3n/core';

/**
 * Forward FFT of a real signal whose length is a power of two, computed as one complex FFT of
 * half the length (even samples as the real part, odd samples as the imaginary part) followed by
 * the usual split step. Twiddles, the bit-reversal table and the work buffers are built once in
 * the constructor, so transforming thousands of frames allocates nothing.
 *
 * Float64 throughout: JavaScript arithmetic is float64 anyway, and float64 buffers keep the
 * round-off well below the tolerance at which we compare with the Python reference.
 */
export class RealFft {
  /** Transform length (number of real input samples). */
  readonly size: number;
  /** Number of output bins, `size / 2 + 1` (DC up to and including Nyquist). */
  readonly binCount: number;

  private readonly halfSize: number;
  /** `bitReversed[n]` is where packed complex sample `n` goes before the butterflies. */
  private readonly bitReversed: Uint32Array;
  /** cos / sin of 2πt/halfSize for t < halfSize/2: the twiddles of the half-size complex FFT. */
  private readonly butterflyCos: Float64Array;
  private readonly butterflySin: Float64Array;
  /** cos / sin of 2πk/size for k ≤ halfSize: the twiddles of the real-split step. */
  private readonly splitCos: Float64Array;
  private readonly splitSin: Float64Array;
  private readonly workReal: Float64Array;
  private readonly workImaginary: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0 || size > 2 ** 30) {
      throw new InputError({ field: 'fftLength', value: size, expected: 'a power of two between 4 and 2^30' });
    }
    this.size = size;
    this.halfSize = size / 2;
    this.binCount = this.halfSize + 1;
    const halfSize = this.halfSize;

    const bits = Math.log2(halfSize);
    this.bitReversed = new Uint32Array(halfSize);
    for (let index = 0; index < halfSize; index++) {
      let reversed = 0;
      for (let bit = 0; bit < bits; bit++) reversed |= ((index >> bit) & 1) << (bits - 1 - bit);
      this.bitReversed[index] = reversed;
    }

    this.butterflyCos = new Float64Array(Math.max(1, halfSize / 2));
    this.butterflySin = new Float64Array(Math.max(1, halfSize / 2));
    for (let t = 0; t < halfSize / 2; t++) {
      this.butterflyCos[t] = Math.cos((2 * Math.PI * t) / halfSize);
      this.butterflySin[t] = Math.sin((2 * Math.PI * t) / halfSize);
    }
    this.splitCos = new Float64Array(halfSize + 1);
    this.splitSin = new Float64Array(halfSize + 1);
    for (let k = 0; k <= halfSize; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.splitSin[k] = Math.sin((2 * Math.PI * k) / size);
    }
    this.workReal = new Float64Array(halfSize);
    this.workImaginary = new Float64Array(halfSize);
  }

  /**
   * Computes bins `X[k] = Σ x[n]·e^(−2πikn/size)` for k = 0 … size/2. `input` may be shorter
   * than `size`: missing samples are zeros (like `numpy.fft.rfft(x, n=size)`).
   */
  forward(
    input: ArrayLike<number>,
    outputReal: Float64Array,
    outputImaginary: Float64Array,
    inputLength: number = input.length,
  ): void {
    this.transformPacked(input, inputLength);
    const halfSize = this.halfSize;
    const real = this.workReal;
    const imaginary = this.workImaginary;
    const splitCos = this.splitCos;
    const splitSin = this.splitSin;
    // X[0] and X[size/2] are real: the sums of the even and odd halves.
    outputReal[0] = real[0]! + imaginary[0]!;
    outputImaginary[0] = 0;
    outputReal[halfSize] = real[0]! - imaginary[0]!;
    outputImaginary[halfSize] = 0;
    for (let k = 1; k < halfSize; k++) {
      const a = real[k]!;
      const b = imaginary[k]!;
      const c = real[halfSize - k]!;
      const d = imaginary[halfSize - k]!;
      // E = DFT of the even samples, O = DFT of the odd samples, recovered from Z[k], Z[M−k].
      const evenReal = 0.5 * (a + c);
      const evenImaginary = 0.5 * (b - d);
      const oddReal = 0.5 * (b + d);
      const oddImaginary = -0.5 * (a - c);
      const cos = splitCos[k]!;
      const sin = splitSin[k]!;
      // X[k] = E + e^(−2πik/size)·O
      outputReal[k] = evenReal + cos * oddReal + sin * oddImaginary;
      outputImaginary[k] = evenImaginary + cos * oddImaginary - sin * oddReal;
    }
  }

  /** `|X[k]|` for k = 0 … size/2, the same bins as {@link forward}. */
  magnitudes(input: ArrayLike<number>, output: Float64Array | Float32Array, inputLength: number = input.length): void {
    this.transformPacked(input, inputLength);
    const halfSize = this.halfSize;
    const real = this.workReal;
    const imaginary = this.workImaginary;
    const splitCos = this.splitCos;
    const splitSin = this.splitSin;
    output[0] = Math.abs(real[0]! + imaginary[0]!);
    output[halfSize] = Math.abs(real[0]! - imaginary[0]!);
    for (let k = 1; k < halfSize; k++) {
      const a = real[k]!;
      const b = imaginary[k]!;
      const c = real[halfSize - k]!;
      const d = imaginary[halfSize - k]!;
      const evenReal = 0.5 * (a + c);
      const evenImaginary = 0.5 * (b - d);
      const oddReal = 0.5 * (b + d);
      const oddImaginary = -0.5 * (a - c);
      const cos = splitCos[k]!;
      const sin = splitSin[k]!;
      const binReal = evenReal + cos * oddReal + sin * oddImaginary;
      const binImaginary = evenImaginary + cos * oddImaginary - sin * oddReal;
      output[k] = Math.sqrt(binReal * binReal + binImaginary * binImaginary);
    }
  }

  /**
   * Packs x into z[n] = x[2n] + i·x[2n+1] (in bit-reversed order) and runs the half-size complex
   * FFT in place: radix-2 butterflies, with the first two stages fused into one pass because
   * their twiddles are 1 and −i.
   */
  private transformPacked(input: ArrayLike<number>, inputLength: number): void {
    const halfSize = this.halfSize;
    if (inputLength > this.size || inputLength > input.length || inputLength < 0) {
      throw new InputError({
        field: 'input.length',
        value: inputLength,
        expected: `at most the FFT length ${this.size} and the input's length ${input.length}`,
      });
    }
    const real = this.workReal;
    const imaginary = this.workImaginary;
    const bitReversed = this.bitReversed;
    const fullPairs = inputLength >> 1;
    if (halfSize >= 4 && inputLength <= halfSize) {
      this.firstStagesHalfZero(input, inputLength);
    } else {
      for (let n = 0; n < fullPairs; n++) {
        const target = bitReversed[n]!;
        real[target] = input[2 * n]!;
        imaginary[target] = input[2 * n + 1]!;
      }
      let n = fullPairs;
      if (inputLength & 1) {
        const target = bitReversed[n]!;
        real[target] = input[2 * n]!;
        imaginary[target] = 0;
        n++;
      }
      for (; n < halfSize; n++) {
        const target = bitReversed[n]!;
        real[target] = 0;
        imaginary[target] = 0;
      }
      if (halfSize >= 4) this.firstStagesFused();
      else this.firstStageOnly();
    }
    this.remainingStages(halfSize >= 4 ? 8 : 4);
  }

  /** Size-2 butterflies alone, for the 4-point transform (halfSize 2). */
  private firstStageOnly(): void {
    const real = this.workReal;
    const imaginary = this.workImaginary;
    for (let start = 0; start < this.halfSize; start += 2) {
      const realA = real[start]!;
      const imaginaryA = imaginary[start]!;
      const realB = real[start + 1]!;
      const imaginaryB = imaginary[start + 1]!;
      real[start] = realA + realB;
      imaginary[start] = imaginaryA + imaginaryB;
      real[start + 1] = realA - realB;
      imaginary[start + 1] = imaginaryA - imaginaryB;
    }
  }

  /** Stages of size 2 and 4 in one pass over each group of four (twiddles 1, 1, 1, −i). */
  private firstStagesFused(): void {
    const real = this.workReal;
    const imaginary = this.workImaginary;
    for (let start = 0; start < this.halfSize; start += 4) {
      const real0 = real[start]!;
      const imaginary0 = imaginary[start]!;
      const real1 = real[start + 1]!;
      const imaginary1 = imaginary[start + 1]!;
      const real2 = real[start + 2]!;
      const imaginary2 = imaginary[start + 2]!;
      const real3 = real[start + 3]!;
      const imaginary3 = imaginary[start + 3]!;
      const sumReal01 = real0 + real1;
      const sumImaginary01 = imaginary0 + imaginary1;
      const differenceReal01 = real0 - real1;
      const differenceImaginary01 = imaginary0 - imaginary1;
      const sumReal23 = real2 + real3;
      const sumImaginary23 = imaginary2 + imaginary3;
      const differenceReal23 = real2 - real3;
      const differenceImaginary23 = imaginary2 - imaginary3;
      real[start] = sumReal01 + sumReal23;
      imaginary[start] = sumImaginary01 + sumImaginary23;
      real[start + 2] = sumReal01 - sumReal23;
      imaginary[start + 2] = sumImaginary01 - sumImaginary23;
      // (differenceReal23 + i·differenceImaginary23)·(−i) = differenceImaginary23 − i·differenceReal23
      real[start + 1] = differenceReal01 + differenceImaginary23;
      imaginary[start + 1] = differenceImaginary01 - differenceReal23;
      real[start + 3] = differenceReal01 - differenceImaginary23;
      imaginary[start + 3] = differenceImaginary01 + differenceReal23;
    }
  }

  /**
   * Load plus the fused first two stages when the input fills at most half the transform (our
   * 512-sample frames in a 1024-point FFT): packed samples n ≥ halfSize/2 are zero, and those
   * are exactly the odd bit-reversed positions, so each group of four has only two non-zero
   * inputs and the butterflies reduce to sums and differences of those two.
   */
  private firstStagesHalfZero(input: ArrayLike<number>, inputLength: number): void {
    const real = this.workReal;
    const imaginary = this.workImaginary;
    const bitReversed = this.bitReversed;
    const halfSize = this.halfSize;
    for (let start = 0; start < halfSize; start += 4) {
      // Positions start and start + 2 hold packed samples bitReversed[start], bitReversed[start + 2].
      const packed0 = bitReversed[start]!;
      const packed2 = bitReversed[start + 2]!;
      const real0 = 2 * packed0 < inputLength ? input[2 * packed0]! : 0;
      const imaginary0 = 2 * packed0 + 1 < inputLength ? input[2 * packed0 + 1]! : 0;
      const real2 = 2 * packed2 < inputLength ? input[2 * packed2]! : 0;
      const imaginary2 = 2 * packed2 + 1 < inputLength ? input[2 * packed2 + 1]! : 0;
      real[start] = real0 + real2;
      imaginary[start] = imaginary0 + imaginary2;
      real[start + 2] = real0 - real2;
      imaginary[start + 2] = imaginary0 - imaginary2;
      real[start + 1] = real0 + imaginary2;
      imaginary[start + 1] = imaginary0 - real2;
      real[start + 3] = real0 - imaginary2;
      imaginary[start + 3] = imaginary0 + real2;
    }
  }

  /**
   * Radix-2 stages from block size `firstBlockSize` up to halfSize, taken two at a time: the
   * stages of block sizes 2m and 4m touch the same four points a, a+m, a+2m, a+3m, so doing
   * both while those are in registers halves the loads and stores. A lone last stage (odd
   * count) runs by itself.
   */
  private remainingStages(firstBlockSize: number): void {
    const halfSize = this.halfSize;
    let blockSize = firstBlockSize;
    for (; blockSize * 2 <= halfSize; blockSize *= 4) this.stagePair(blockSize);
    if (blockSize <= halfSize) this.singleStage(blockSize);
  }

  /** The stages of block size `blockSize` (= 2m) and 2·blockSize (= 4m) in one pass. */
  private stagePair(blockSize: number): void {
    const halfSize = this.halfSize;
    const real = this.workReal;
    const imaginary = this.workImaginary;
    const butterflyCos = this.butterflyCos;
    const butterflySin = this.butterflySin;
    const quarter = blockSize >> 1; // m
    const outerSize = blockSize << 1; // 4m
    const innerStep = halfSize / blockSize; // twiddle index step for W_2m
    const outerStep = innerStep >> 1; // for W_4m
    for (let offset = 0; offset < quarter; offset++) {
      // W_2m^j = cos − i·sin, shared by both inner butterflies.
      const innerCos = butterflyCos[offset * innerStep]!;
      const innerSin = butterflySin[offset * innerStep]!;
      // W_4m^j; the second outer butterfly uses W_4m^(j+m) = −i·W_4m^j.
      const outerCos = butterflyCos[offset * outerStep]!;
      const outerSin = butterflySin[offset * outerStep]!;
      for (let indexA = offset; indexA < halfSize; indexA += outerSize) {
        const indexB = indexA + quarter;
        const indexC = indexB + quarter;
        const indexD = indexC + quarter;
        // Inner stage: (a, b) and (c, d) with W_2m^j.
        const realB = real[indexB]!;
        const imaginaryB = imaginary[indexB]!;
        const productRealB = innerCos * realB + innerSin * imaginaryB;
        const productImaginaryB = innerCos * imaginaryB - innerSin * realB;
        const realD = real[indexD]!;
        const imaginaryD = imaginary[indexD]!;
        const productRealD = innerCos * realD + innerSin * imaginaryD;
        const productImaginaryD = innerCos * imaginaryD - innerSin * realD;
        const realA = real[indexA]!;
        const imaginaryA = imaginary[indexA]!;
        const realC = real[indexC]!;
        const imaginaryC = imaginary[indexC]!;
        const realA1 = realA + productRealB;
        const imaginaryA1 = imaginaryA + productImaginaryB;
        const realB1 = realA - productRealB;
        const imaginaryB1 = imaginaryA - productImaginaryB;
        const realC1 = realC + productRealD;
        const imaginaryC1 = imaginaryC + productImaginaryD;
        const realD1 = realC - productRealD;
        const imaginaryD1 = imaginaryC - productImaginaryD;
        // Outer stage: (a, c) with W_4m^j, (b, d) with −i·W_4m^j.
        const productRealC = outerCos * realC1 + outerSin * imaginaryC1;
        const productImaginaryC = outerCos * imaginaryC1 - outerSin * realC1;
        const rotatedRealD = outerCos * realD1 + outerSin * imaginaryD1;
        const rotatedImaginaryD = outerCos * imaginaryD1 - outerSin * realD1;
        // Multiplying by −i: (x + iy)·(−i) = y − ix.
        const productRealD1 = rotatedImaginaryD;
        const productImaginaryD1 = -rotatedRealD;
        real[indexA] = realA1 + productRealC;
        imaginary[indexA] = imaginaryA1 + productImaginaryC;
        real[indexC] = realA1 - productRealC;
        imaginary[indexC] = imaginaryA1 - productImaginaryC;
        real[indexB] = realB1 + productRealD1;
        imaginary[indexB] = imaginaryB1 + productImaginaryD1;
        real[indexD] = realB1 - productRealD1;
        imaginary[indexD] = imaginaryB1 - productImaginaryD1;
      }
    }
  }

  /** One radix-2 stage of block size `blockSize`. */
  private singleStage(blockSize: number): void {
    const halfSize = this.halfSize;
    const real = this.workReal;
    const imaginary = this.workImaginary;
    const half = blockSize >> 1;
    const twiddleStep = halfSize / blockSize;
    // Twiddle-major order: each twiddle is loaded once per stage, not once per butterfly.
    for (let offset = 0; offset < half; offset++) {
      // Twiddle e^(−2πi·offset/blockSize) = cos − i·sin.
      const cos = this.butterflyCos[offset * twiddleStep]!;
      const sin = this.butterflySin[offset * twiddleStep]!;
      for (let indexA = offset; indexA < halfSize; indexA += blockSize) {
        const indexB = indexA + half;
        const realB = real[indexB]!;
        const imaginaryB = imaginary[indexB]!;
        const productReal = cos * realB + sin * imaginaryB;
        const productImaginary = cos * imaginaryB - sin * realB;
        const realA = real[indexA]!;
        const imaginaryA = imaginary[indexA]!;
        real[indexB] = realA - productReal;
        imaginary[indexB] = imaginaryA - productImaginary;
        real[indexA] = realA + productReal;
        imaginary[indexA] = imaginaryA + productImaginary;
      }
    }
  }
}
