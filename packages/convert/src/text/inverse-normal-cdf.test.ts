import { describe, expect, it } from 'vitest';
import { inverseNormalCdf, normalCdf } from './inverse-normal-cdf';

describe('inverseNormalCdf', () => {
  it('matches published quantiles of the standard normal to 1e-13', () => {
    // Quantiles from standard tables (computed to 16 digits with arbitrary precision).
    const quantiles: [number, number][] = [
      [0.5, 0],
      [0.95, 1.6448536269514722],
      [0.975, 1.959963984540054],
      [0.9, 1.2815515655446004],
      [0.999, 3.090232306167813],
      [0.01, -2.3263478740408408],
      [1e-10, -6.361340902404056],
    ];
    for (const [probability, quantile] of quantiles) {
      expect(Math.abs(inverseNormalCdf(probability) - quantile)).toBeLessThan(1e-13 * Math.max(1, Math.abs(quantile)));
    }
  });

  it('inverts normalCdf across the unit interval', () => {
    for (const probability of [1e-300, 1e-20, 1e-5, 0.02, 0.02425, 0.3, 0.6, 0.97575, 0.99999]) {
      const x = inverseNormalCdf(probability);
      const back = probability > 0.5 ? 1 - normalCdf(-x) : normalCdf(x);
      expect(Math.abs(back - probability) / Math.min(probability, 1 - probability)).toBeLessThan(1e-12);
    }
  });

  it('rejects probabilities outside (0, 1)', () => {
    expect(() => inverseNormalCdf(0)).toThrow('strictly between 0 and 1, got 0');
    expect(() => inverseNormalCdf(1)).toThrow(RangeError);
    expect(() => inverseNormalCdf(Number.NaN)).toThrow(RangeError);
  });
});
