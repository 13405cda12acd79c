import { describe, expect, it } from 'vitest';
import { compareNextToken, logSoftmax } from './next-token-metrics';

describe('compareNextToken', () => {
  it('computes KL(p‖q) in nats and the top-1 agreement', () => {
    // p = softmax(log [0.5, 0.25, 0.25]) and q = softmax(log [0.25, 0.5, 0.25]):
    // KL = 0.5 ln 2 + 0.25 ln 0.5 + 0 = 0.25 ln 2.
    const result = compareNextToken([Math.log(0.5), Math.log(0.25), Math.log(0.25)], [Math.log(0.25) + 3, Math.log(0.5) + 3, Math.log(0.25) + 3]);
    expect(result.kl).toBeCloseTo(0.25 * Math.LN2, 12);
    expect(result.topOneAgrees).toBe(false);
    expect([result.referenceTop, result.candidateTop]).toEqual([0, 1]);
    expect(compareNextToken([1, 2, 3], [1, 2, 3]).kl).toBe(0);
  });

  it('stays finite for large logits', () => {
    const values = logSoftmax([1000, 999, -1000]);
    expect(values[0]).toBeCloseTo(-Math.log(1 + Math.exp(-1)), 12);
    expect(Number.isFinite(values[2]!)).toBe(true);
  });
});
