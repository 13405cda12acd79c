import { describe, expect, it } from 'vitest';
import { tinyConfig } from '../test-support/tiny-model';
import { altupCorrect, altupPredict, altupRouter, projectToMagnitude } from './altup';
import { laurel } from './laurel';
import { mlp } from './mlp';
import { selfAttention, computeKeyValues } from './self-attention';

// Hand-sized examples (D = 2 mostly) whose expected values follow from the formulas in §1.5–§1.8.

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, index) => expect(actual[index]).toBeCloseTo(value, digits));
}

const identity2 = Float32Array.from([1, 0, 0, 1]);

describe('AltUp (§1.4, §1.5, §1.9)', () => {
  it('router: tanh(modality_router(RMSNorm(x) / D))', () => {
    // RMSNorm([3, 4]) = [0.8485, 1.1314]; / D = 2; identity router; tanh.
    expectClose(altupRouter(Float32Array.from([3, 4]), Float32Array.from([1, 1]), identity2, 2, 1e-6), [0.4005165749324208, 0.5121835750142498], 6);
  });

  it('predict: P_i = H_i + Σ_j C[i][j]·H_j with C[i][j] = coefs[N·i + j]', () => {
    // m = [1, 0.5]; weights give coefs = [0.1, 0.2, 0.3, 0.4].
    const predictionCoefficients = Float32Array.from([0.1, 0, 0.2, 0, 0, 0.6, 0.4, 0]);
    const [first, second] = altupPredict([Float32Array.from([1, 0]), Float32Array.from([0, 1])], Float64Array.from([1, 0.5]), predictionCoefficients);
    expectClose(first!, [1.1, 0.2]); // the transposed reading would give [1.1, 0.3]
    expectClose(second!, [0.3, 1.4]);
  });

  it('correct: Q_i = P_i + (coefs[i] + 1)·(z − P_active), correction weights clipped', () => {
    const predictions = [Float32Array.from([1, 1]), Float32Array.from([2, 0])];
    const [first, second] = altupCorrect(predictions, Float32Array.from([3, 2]), Float64Array.from([0.5, -0.25]), identity2, 0, 120);
    expectClose(first!, [4, 2.5]);
    expectClose(second!, [3.5, 0.75]);
    // With active index 1 the innovation is z − P_1 = [1, 2].
    const [fromSecond] = altupCorrect(predictions, Float32Array.from([3, 2]), Float64Array.from([0.5, -0.25]), identity2, 1, 120);
    expectClose(fromSecond!, [2.5, 4]);
    // A weight of 200 is clipped to 120: coef = 120·0.01 + 1 = 2.2, not 3.
    const [clipped] = altupCorrect(predictions, Float32Array.from([3, 2]), Float64Array.from([0.01, 0]), Float32Array.from([200, 0, 0, 1]), 1, 120);
    expectClose(clipped!, [1 + 2.2 * 1, 1 + 2.2 * 2]);
  });

  it('projectToMagnitude rescales to the target RMS, with the 1e-5 floor on mean square', () => {
    expectClose(projectToMagnitude(Float32Array.from([2, 0, 0, 2]), Float32Array.from([3, 4]), 1), [6 / Math.sqrt(50), 8 / Math.sqrt(50)]);
    expectClose(projectToMagnitude(identity2, Float32Array.from([1e-4, 0]), 1), [1e-4 / Math.sqrt(1e-5), 0]);
  });
});

describe('Laurel and MLP', () => {
  it('laurel: x + RMSNorm(linear_right(linear_left(x)))', () => {
    // left [1, 1]: 3; right [[1], [2]]: [3, 6]; norm → [0.6325, 1.2649]; plus x.
    const output = laurel(Float32Array.from([1, 2]), Float32Array.from([1, 1]), Float32Array.from([1, 2]), Float32Array.from([1, 1]), 2, 1, 1e-6);
    expectClose(output, [1.6324555179791091, 3.2649110359582183]);
  });

  it('mlp: down(gelu(gate x) · up x), top-k on the gate only when s > 0', () => {
    const input = Float32Array.from([1, -0.5]);
    const up = Float32Array.from([1, 0, 0, 2]);
    // s = 0: gate [1, −0.5], up [1, −1]: [gelu(1), −gelu(−0.5)].
    expectClose(mlp(input, identity2, up, identity2, 2, 2, 0), [0.8411919906082768, 0.15428599017485606]);
    // s = 0.5: cutoff = mean(gate) = 0.25, gate → [0.75, 0].
    expectClose(mlp(input, identity2, up, identity2, 2, 2, 0.5), [0.5799605551656203, 0]);
  });
});

describe('self-attention (§1.6)', () => {
  // D = hd = 2, one head, identity projections and unit q/k norms, full layer (θ = 1e6, hd 2: inv_freq [1]).
  const config = tinyConfig({ hiddenSize: 2, numAttentionHeads: 1, numKeyValueHeads: 1, headDim: 2, numHiddenLayers: 5, numKvSharedLayers: 0 }).text;
  const normedInput = Float32Array.from([1, 0, 0.6, 0.8]);
  const ones = Float32Array.from([1, 1]);

  it('uses scale 1.0, q_norm/k_norm weights, RoPE on q and k (not v), unscaled v_norm, causal softmax', () => {
    const queryNorm = Float32Array.from([1, 0.5]);
    const keyNorm = Float32Array.from([2, 1]);
    const keyValues = computeKeyValues(config, 4, normedInput, 2, identity2, identity2, keyNorm);
    // k = RoPE(RMSNorm(x)·[2, 1]): x0 → [2√2, 0] at position 0, x1 rotated by 1 rad at position 1.
    expectClose(keyValues.keys, [2.8284242963233077, 0, -0.03509228966653, 2.0393038545598348], 5);
    // v = RMSNorm without scale, no RoPE: x0 → [√2, 0], x1 → [0.8485, 1.1314].
    expectClose(keyValues.values, [1.4142121481616539, 0, 0.848527, 1.131370], 5);
    const output = selfAttention(config, 4, normedInput, 2, identity2, queryNorm, identity2, keyValues);
    // t = 0 sees only itself; t = 1: scores [q1·k0, q1·k1] = [−0.04963, 2.08000] (no 1/√hd).
    expectClose(output, [1.4142121481616539, 0, 0.9086317082861808, 1.0111608797509466], 5);
  });

  it('GQA: query head h reads KV head ⌊h / (H / Hkv)⌋', () => {
    const gqa = tinyConfig({ hiddenSize: 8, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 2, numHiddenLayers: 5, numKvSharedLayers: 0 }).text;
    const sequence = Float32Array.from({ length: 3 * 8 }, (_, index) => Math.sin(index * 1.7) + 0.1);
    // Every query head is the same projection of x[0..2); K/V heads differ.
    const queryProjection = new Float32Array(8 * 8);
    for (let head = 0; head < 4; head++) {
      queryProjection[(head * 2) * 8] = 1;
      queryProjection[(head * 2 + 1) * 8 + 1] = 1;
    }
    const keyValueProjection = new Float32Array(4 * 8);
    keyValueProjection.set([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    const eye8 = Float32Array.from({ length: 64 }, (_, index) => (index % 9 === 0 ? 1 : 0));
    const keyValues = computeKeyValues(gqa, 4, sequence, 3, keyValueProjection, keyValueProjection, ones);
    const output = selfAttention(gqa, 4, sequence, 3, queryProjection, ones, eye8, keyValues);
    const lastToken = Array.from(output.subarray(16, 24));
    expect(lastToken.slice(0, 2)).toEqual(lastToken.slice(2, 4));
    expect(lastToken.slice(4, 6)).toEqual(lastToken.slice(6, 8));
    expect(lastToken.slice(0, 2)).not.toEqual(lastToken.slice(4, 6));
  });
});
