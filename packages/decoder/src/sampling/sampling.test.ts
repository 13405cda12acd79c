import { describe, expect, it } from 'vitest';
import { InputError } from '@gemma3n/core';
import { applyRepetitionPenalty, applyTemperature, argmax, maskTokensFrom } from './logits-processing';
import { candidateProbabilities, drawCandidate, selectCandidates } from './candidate-filters';
import { createSeededRandom } from './seeded-random';
import { resolveSamplingOptions, samplingDefaultsFromGenerationConfig, validateSamplingOptions } from './sampling-options';
import { createTokenSampler } from './token-sampler';

/** Logits whose softmax is exactly the given distribution (up to float32 rounding). */
function logitsOf(probabilities: number[]): Float32Array {
  return Float32Array.from(probabilities, (probability) => Math.log(probability));
}

const keepAll = { topK: 0, topP: 1, minP: 0 };
const distribution = [0.5, 0.3, 0.15, 0.05];

describe('logits processing', () => {
  it('repetition penalty divides positive logits and multiplies negative ones, once per id', () => {
    const logits = Float32Array.from([2, -2, 1, 0.5]);
    applyRepetitionPenalty(logits, [0, 1, 1, 1], 2);
    expect(Array.from(logits)).toEqual([1, -4, 1, 0.5]);
  });

  it('masks ids from the first masked id on, so argmax cannot pick them', () => {
    const logits = Float32Array.from([0, 1, 2, 3, 9, 8]);
    maskTokensFrom(logits, 4);
    expect(Array.from(logits.slice(4))).toEqual([-Infinity, -Infinity]);
    expect(argmax(logits)).toBe(3);
  });

  it('temperature divides; argmax takes the first of tied maxima', () => {
    const logits = Float32Array.from([2, 4, 4]);
    applyTemperature(logits, 2);
    expect(Array.from(logits)).toEqual([1, 2, 2]);
    expect(argmax(logits)).toBe(1);
    expect(argmax(Float32Array.from([-Infinity, -Infinity]))).toBe(-1);
  });
});

describe('candidate filters', () => {
  it('top-p keeps exactly the smallest set reaching p', () => {
    // Ascending cumulative probabilities are 0.05, 0.2, 0.5, 1: HF removes those ≤ 1 − p.
    expect(Array.from(selectCandidates(logitsOf(distribution), { ...keepAll, topP: 0.75 }).ids)).toEqual([0, 1]);
    expect(Array.from(selectCandidates(logitsOf(distribution), { ...keepAll, topP: 0.81 }).ids)).toEqual([0, 1, 2]);
    expect(Array.from(selectCandidates(logitsOf(distribution), { ...keepAll, topP: 0.4 }).ids)).toEqual([0]);
    expect(Array.from(selectCandidates(logitsOf(distribution), keepAll).ids)).toEqual([0, 1, 2, 3]);
  });

  it('top-p renormalises over the kept set', () => {
    const probabilities = candidateProbabilities(selectCandidates(logitsOf(distribution), { ...keepAll, topP: 0.75 }));
    expect(probabilities[0]).toBeCloseTo(0.625, 6);
    expect(probabilities[1]).toBeCloseTo(0.375, 6);
  });

  it('min-p keeps tokens at least min_p times as likely as the top one', () => {
    expect(Array.from(selectCandidates(logitsOf(distribution), { ...keepAll, minP: 0.5 }).ids)).toEqual([0, 1]);
    expect(Array.from(selectCandidates(logitsOf(distribution), { ...keepAll, minP: 0.2 }).ids)).toEqual([0, 1, 2]);
  });

  it('top-k keeps the k largest and everything tied with the k-th', () => {
    expect(Array.from(selectCandidates(Float32Array.from([1, 3, 2, 0]), { ...keepAll, topK: 2 }).ids)).toEqual([1, 2]);
    expect(Array.from(selectCandidates(Float32Array.from([1, 3, 2, 2]), { ...keepAll, topK: 2 }).ids)).toEqual([1, 2, 3]);
    expect(Array.from(selectCandidates(Float32Array.from([1, 3]), { ...keepAll, topK: 5 }).ids)).toEqual([1, 0]);
  });

  it('top-p is computed over the top-k survivors', () => {
    // After top-k 3 the probabilities are 0.5/0.95, 0.3/0.95, 0.15/0.95 = 0.526, 0.316, 0.158;
    // top-p 0.8 then keeps 0 and 1 (0.526 < 0.8, 0.842 ≥ 0.8).
    const filtered = selectCandidates(logitsOf(distribution), { topK: 3, topP: 0.8, minP: 0 });
    expect(Array.from(filtered.ids)).toEqual([0, 1]);
    // Without top-k, 0.5 + 0.3 = 0.8 is not below 0.8 either, but 0.81 shows the difference.
    expect(Array.from(selectCandidates(logitsOf(distribution), { topK: 3, topP: 0.85, minP: 0 }).ids)).toEqual([0, 1, 2]);
  });

  it('ignores −∞ logits', () => {
    expect(Array.from(selectCandidates(Float32Array.from([-Infinity, 0, -Infinity]), keepAll).ids)).toEqual([1]);
  });

  it('draws by walking the cumulative distribution', () => {
    const candidates = selectCandidates(logitsOf(distribution), keepAll);
    expect(drawCandidate(candidates, 0)).toBe(0);
    expect(drawCandidate(candidates, 0.49)).toBe(0);
    expect(drawCandidate(candidates, 0.51)).toBe(1);
    expect(drawCandidate(candidates, 0.81)).toBe(2);
    expect(drawCandidate(candidates, 0.96)).toBe(3);
    expect(drawCandidate(candidates, 0.999999)).toBe(3);
  });
});

describe('seeded random', () => {
  it('repeats for one seed and differs for another', () => {
    const first = createSeededRandom(42);
    const again = createSeededRandom(42);
    const other = createSeededRandom(43);
    const a = Array.from({ length: 8 }, () => first.next());
    const b = Array.from({ length: 8 }, () => again.next());
    const c = Array.from({ length: 8 }, () => other.next());
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBe(8);
    const large = createSeededRandom(2 ** 32 + 42).next();
    expect(large).not.toBe(createSeededRandom(42).next());
  });

  it('is uniform on [0, 1)', () => {
    const random = createSeededRandom(7);
    let sum = 0;
    const buckets = new Array<number>(10).fill(0);
    for (let draw = 0; draw < 20000; draw++) {
      const value = random.next();
      expect(value >= 0 && value < 1).toBe(true);
      sum += value;
      buckets[Math.floor(value * 10)]!++;
    }
    expect(sum / 20000).toBeCloseTo(0.5, 1);
    for (const bucket of buckets) expect(Math.abs(bucket - 2000)).toBeLessThan(200);
  });
});

describe('token sampler', () => {
  const base = { greedy: false, temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1, firstMaskedId: Infinity };

  it('samples with the softmax frequencies', () => {
    const sampler = createTokenSampler(base);
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 20000; draw++) counts[sampler.sample(logitsOf(distribution), [])]!++;
    counts.forEach((count, index) => expect(Math.abs(count / 20000 - distribution[index]!)).toBeLessThan(0.015));
  });

  it('temperature 0.5 squares the probabilities before renormalising', () => {
    const sampler = createTokenSampler({ ...base, temperature: 0.5 });
    const squared = distribution.map((probability) => probability ** 2);
    const total = squared.reduce((sum, value) => sum + value, 0);
    const counts = [0, 0, 0, 0];
    for (let draw = 0; draw < 20000; draw++) counts[sampler.sample(logitsOf(distribution), [])]!++;
    counts.forEach((count, index) => expect(Math.abs(count / 20000 - squared[index]! / total)).toBeLessThan(0.015));
  });

  it('gives the same tokens for the same seed, others for another seed', () => {
    const logits = new Float32Array(50).map((_, index) => Math.sin(index));
    const run = (seed: number) => {
      const sampler = createTokenSampler({ ...base, seed });
      return Array.from({ length: 20 }, () => sampler.sample(logits, []));
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('greedy is argmax after masking and repetition penalty, and leaves the input alone', () => {
    const logits = Float32Array.from([1, 3, 2.5, 9]);
    const sampler = createTokenSampler({ ...base, greedy: true, repetitionPenalty: 2, firstMaskedId: 3 });
    expect(sampler.sample(logits, [])).toBe(1);
    expect(sampler.sample(logits, [1])).toBe(2); // 3 / 2 = 1.5 < 2.5
    expect(logits[3]).toBe(9);
  });

  it('never samples a masked id', () => {
    const sampler = createTokenSampler({ ...base, firstMaskedId: 2 });
    const logits = Float32Array.from([0, 0, 10, 10]);
    for (let draw = 0; draw < 200; draw++) expect(sampler.sample(logits, [])).toBeLessThan(2);
  });
});

describe('sampling options', () => {
  it.each([
    [{ temperature: -0.5 }, 'temperature', -0.5],
    [{ temperature: Number.NaN }, 'temperature', Number.NaN],
    [{ temperature: Infinity }, 'temperature', Infinity],
    [{ topP: 0 }, 'topP', 0],
    [{ topP: 1.5 }, 'topP', 1.5],
    [{ topK: -1 }, 'topK', -1],
    [{ topK: 2.5 }, 'topK', 2.5],
    [{ minP: 2 }, 'minP', 2],
    [{ repetitionPenalty: 0 }, 'repetitionPenalty', 0],
    [{ seed: 1.5 }, 'seed', 1.5],
  ])('rejects %o with an InputError naming the option', (options, field, value) => {
    try {
      validateSamplingOptions(options);
      expect.unreachable();
    } catch (error) {
      expect(InputError.isInstance(error)).toBe(true);
      const inputError = error as InputError;
      expect(inputError.field).toBe(field);
      expect(Object.is(inputError.value, value)).toBe(true);
      expect(inputError.message).toContain(field);
      expect(inputError.message).toContain(Number.isNaN(value) ? 'NaN' : String(value));
    }
  });

  it('takes generation_config defaults and lets the caller override them', () => {
    const defaults = samplingDefaultsFromGenerationConfig({ do_sample: true, top_k: 64, top_p: 0.95, eos_token_id: [1, 106] });
    expect(defaults).toEqual({ doSample: true, topK: 64, topP: 0.95 });
    const sampled = resolveSamplingOptions({ seed: 3 }, defaults);
    expect(sampled).toMatchObject({ greedy: false, temperature: 1, topK: 64, topP: 0.95, minP: 0, seed: 3 });
    expect(resolveSamplingOptions({ temperature: 0 }, defaults).greedy).toBe(true);
    expect(resolveSamplingOptions({ doSample: false, topK: 5 }, defaults).greedy).toBe(true);
    expect(resolveSamplingOptions({}, {}).greedy).toBe(true);
    expect(resolveSamplingOptions({ topP: 0.9 }, {}).greedy).toBe(false);
  });
});

/** Hugging Face's warpers written out literally: −∞ fills over the whole vocabulary. */
function huggingFaceSurvivors(logits: Float32Array, topK: number, topP: number, minP: number): number[] {
  let scores = Array.from(logits, Number);
  const softmax = (values: number[]) => {
    const max = Math.max(...values.filter(Number.isFinite));
    const weights = values.map((value) => (Number.isFinite(value) ? Math.exp(value - max) : 0));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    return weights.map((weight) => weight / total);
  };
  if (topK > 0) {
    const kth = [...scores].sort((a, b) => b - a)[topK - 1]!;
    scores = scores.map((score) => (score < kth ? -Infinity : score));
  }
  if (topP < 1) {
    const order = scores.map((_, index) => index).sort((a, b) => scores[a]! - scores[b]!);
    const probabilities = softmax(scores);
    let cumulative = 0;
    const remove = new Set<number>();
    order.forEach((index, position) => {
      cumulative += probabilities[index]!;
      if (cumulative <= 1 - topP && position < order.length - 1) remove.add(index);
    });
    scores = scores.map((score, index) => (remove.has(index) ? -Infinity : score));
  }
  if (minP > 0) {
    const probabilities = softmax(scores);
    const top = Math.max(...probabilities);
    scores = scores.map((score, index) => (probabilities[index]! < minP * top ? -Infinity : score));
  }
  return scores.map((score, index) => (Number.isFinite(score) ? index : -1)).filter((index) => index >= 0);
}

describe('candidate filters against a literal Hugging Face implementation', () => {
  it.each([
    { topK: 0, topP: 0.9, minP: 0 },
    { topK: 0, topP: 0.5, minP: 0 },
    { topK: 64, topP: 0.95, minP: 0 },
    { topK: 200, topP: 0.7, minP: 0.01 },
    { topK: 0, topP: 1, minP: 0.05 },
    { topK: 10, topP: 1, minP: 0 },
  ])('keeps the same tokens for %o on 3000 random logits', (params) => {
    const random = createSeededRandom(99);
    for (const spread of [2, 8, 20]) {
      const logits = Float32Array.from({ length: 3000 }, () => (random.next() - 0.5) * spread);
      const ours = Array.from(selectCandidates(logits, params).ids).sort((a, b) => a - b);
      expect(ours).toEqual(huggingFaceSurvivors(logits, params.topK, params.topP, params.minP));
    }
  });
});
