import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../test-support/tiny-model';
import { applyRope, ropeInverseFrequencies, ropeThetaForLayer, rotateHalf } from './rotary-embedding';

// Golden values: x·cos(emb) + rotate_half(x)·sin(emb), emb = [pos·inv_freq, pos·inv_freq], by hand.

function rotated(vector: number[], position: number, theta: number): number[] {
  const values = Float32Array.from(vector);
  applyRope(values, 0, vector.length, position, ropeInverseFrequencies(theta, vector.length));
  return Array.from(values);
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 5));
}

describe('rotary embedding (§1.6)', () => {
  it('rotate_half is [−x[hd/2:], x[:hd/2]]', () => {
    expect(Array.from(rotateHalf(Float32Array.from([1, 2, 3, 4])))).toEqual([-3, -4, 1, 2]);
  });

  it('inverse frequencies are θ^(−2j/hd)', () => {
    expect(Array.from(ropeInverseFrequencies(1e4, 4))).toEqual([1, 0.01]);
    const frequencies = ropeInverseFrequencies(1e6, 8);
    [1, 10 ** -1.5, 1e-3, 10 ** -4.5].forEach((value, index) => expect(frequencies[index]).toBeCloseTo(value, 12));
  });

  it('rotates a known vector at position 3 with both thetas (hd = 4)', () => {
    // Angles [3, 0.03] for θ = 1e4 and [3, 0.003] for θ = 1e6; the first pair is the same.
    expectClose(rotated([1, 2, 3, 4], 3, 1e4), [-1.413352520780047, 1.8791180666879925, -2.828857481741469, 4.058191135400942]);
    expectClose(rotated([1, 2, 3, 4], 3, 1e6), [-1.413352520780047, 1.987991018006742, -2.828857481741469, 4.005981991013504]);
  });

  it('rotates a known vector at position 7 with both thetas (hd = 8)', () => {
    const vector = [1, 2, 3, 4, 5, 6, 7, 8];
    expectClose(rotated(vector, 7, 1e4), [-2.5310307392506406, -2.33562174885717, 2.5030530693971094, 3.943902457732379, 4.426497870435313, 5.877488498182313, 7.192685543785555, 8.027803772134225]);
    expectClose(rotated(vector, 7, 1e6), [-2.5310307392506406, 0.6338632087018372, 2.950926900465811, 3.998229026524768, 4.426497870435313, 6.2927114531538955, 7.020828329200711, 8.000885241737617]);
  });

  it('is the identity at position 0 and only touches its own head', () => {
    expect(rotated([1, 2, 3, 4], 0, 1e4)).toEqual([1, 2, 3, 4]);
    const twoHeads = Float32Array.from([1, 2, 3, 4, 1, 2, 3, 4]);
    applyRope(twoHeads, 4, 4, 3, ropeInverseFrequencies(1e4, 4));
    expect(Array.from(twoHeads.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expectClose(Array.from(twoHeads.subarray(4)), rotated([1, 2, 3, 4], 3, 1e4));
  });

  it('uses rope_local_base_freq on sliding layers and rope_theta on full ones', () => {
    const config = tinyConfig({ ropeTheta: 123, ropeLocalBaseFreq: 45 }).text;
    expect(ropeThetaForLayer(config, 0)).toBe(45); // sliding
    expect(ropeThetaForLayer(config, 4)).toBe(123); // (4 + 1) % 5 == 0: full
  });
});
