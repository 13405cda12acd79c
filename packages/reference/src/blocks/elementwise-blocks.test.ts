import { describe, expect, it } from 'vitest';
import { geluTanh, softcap } from './activations';
import { isKeyVisible } from './attention-mask';
import { gaussianTopK } from './gaussian-top-k';
import { inverseNormalCdf } from './inverse-normal-cdf';
import { rmsNorm } from './rms-norm';

// Golden values computed by hand (with a calculator) from the formulas of the architecture doc.

describe('rmsNorm (§1.2)', () => {
  const input = Float32Array.from([1, 2, 3, 4]); // mean(x²) = 7.5, rms = 2.7386127875

  it('divides by the RMS and multiplies by w, with no 1 + w offset', () => {
    expect(Array.from(rmsNorm(input, Float32Array.from([1, 0.5, 2, -1]), 0))).toEqual(
      [0.3651483716701107, 0.3651483716701107, 2.1908902300206643, -1.4605934866804429].map(Math.fround),
    );
    // w = 0 gives 0: a `(1 + w)` implementation would return the plain normalised values.
    expect(Array.from(rmsNorm(input, new Float32Array(4), 1e-6))).toEqual([0, 0, 0, 0]);
  });

  it('without a scale (v_norm, embedder post-projection norm) and with eps inside the root', () => {
    const expected = [0.3651483473268884, 0.7302966946537768, 1.0954450419806652, 1.4605933893075536];
    rmsNorm(input, null, 1e-6).forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 7));
  });

  it('normalises each group of `width` values on its own', () => {
    // [1, 2]: rms sqrt(2.5); [3, 4]: rms sqrt(12.5).
    const grouped = rmsNorm(input, null, 0, 2);
    [1 / Math.sqrt(2.5), 2 / Math.sqrt(2.5), 3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)].forEach((value, index) =>
      expect(grouped[index]).toBeCloseTo(value, 6),
    );
  });
});

describe('geluTanh and softcap', () => {
  it('matches gelu_pytorch_tanh at a few points', () => {
    const points: [number, number][] = [
      [0, 0], [1, 0.8411919906082768], [-1, -0.15880800939172324], [2, 1.954597694087775],
      [0.5, 0.34571400982514394], [-3, -0.0036373920817729943],
    ];
    for (const [x, expected] of points) expect(geluTanh(x)).toBeCloseTo(expected, 12);
  });

  it('caps logits at ±cap smoothly and leaves them alone without a cap', () => {
    expect(softcap(30, 30)).toBeCloseTo(22.847824678672946, 12); // 30·tanh(1)
    expect(softcap(50, 30)).toBeCloseTo(27.93328826002733, 12);
    expect(softcap(-1e6, 30)).toBe(-30);
    expect(softcap(0.001, 30)).toBeCloseTo(0.001, 9);
    expect(softcap(1234, null)).toBe(1234);
  });
});

describe('inverseNormalCdf', () => {
  it('gives 1.6448536 for 0.95 and the standard quantiles elsewhere, to 1e-7 or better', () => {
    expect(inverseNormalCdf(0.95)).toBeCloseTo(1.6448536, 7);
    const quantiles: [number, number][] = [
      [0.95, 1.6448536269514722], [0.5, 0], [0.975, 1.959963984540054], [0.99, 2.3263478740408408],
      [0.1, -1.2815515655446004], [0.25, -0.6744897501960817], [0.7, 0.5244005127080407],
      [0.075, -1.4395314709384563], [0.925, 1.4395314709384563], [0.999, 3.090232306167813],
      [1e-6, -4.753424308822899], [0.9999999, 5.199337582290661], [1e-12, -7.034483825301131],
    ];
    for (const [probability, expected] of quantiles) {
      expect(Math.abs(inverseNormalCdf(probability) - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
    }
  });

  it('is antisymmetric about 0.5 and rejects probabilities outside (0, 1)', () => {
    for (const probability of [0.01, 0.2, 0.4, 0.45]) {
      expect(inverseNormalCdf(1 - probability)).toBeCloseTo(-inverseNormalCdf(probability), 12);
    }
    for (const bad of [0, 1, -0.1, 1.5, Number.NaN]) expect(() => inverseNormalCdf(bad)).toThrow(/probability/);
  });
});

describe('gaussianTopK (§1.8)', () => {
  const gate = Float32Array.from([1, 2, 3, 4, 10]);

  it('shifts by mean + population std · Φ⁻¹(s) and clamps at 0', () => {
    // mean 4, population variance (9 + 4 + 1 + 0 + 36) / 5 = 10, cutoff 4 + sqrt(10)·1.6448536 = 9.2014839.
    // (The n−1 std, sqrt(12.5), would give a cutoff of 9.8154 and 0.1846 for the last value.)
    const result = gaussianTopK(gate, 0.95);
    expect(Array.from(result.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(result[4]).toBeCloseTo(10 - 9.201483878755575, 6);
  });

  it('uses the mean alone at s = 0.5 (Φ⁻¹ = 0) and skips the cutoff at s = 0', () => {
    expect(Array.from(gaussianTopK(gate, 0.5))).toEqual([0, 0, 0, 0, 6]);
    const withNegatives = Float32Array.from([-2, 0.5, 3]);
    const skipped = gaussianTopK(withNegatives, 0);
    expect(Array.from(skipped)).toEqual(Array.from(withNegatives));
    expect(skipped).not.toBe(withNegatives);
  });
});

describe('isKeyVisible (§1.6 masks)', () => {
  it('full layers are causal', () => {
    const visible = Array.from({ length: 8 }, (_, key) => isKeyVisible('full_attention', 5, key, 3));
    expect(visible).toEqual([true, true, true, true, true, true, false, false]);
  });

  it('sliding layers see W keys including the current one', () => {
    const visible = Array.from({ length: 8 }, (_, key) => isKeyVisible('sliding_attention', 5, key, 3));
    expect(visible).toEqual([false, false, false, true, true, true, false, false]);
    expect(isKeyVisible('sliding_attention', 1, 0, 3)).toBe(true);
    expect(isKeyVisible('sliding_attention', 0, 0, 1)).toBe(true);
    expect(isKeyVisible('sliding_attention', 1, 0, 1)).toBe(false);
  });
});
