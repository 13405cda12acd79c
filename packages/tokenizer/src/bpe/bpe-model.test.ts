import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/corpus';
import { BpeModel } from './bpe-model';

/**
 * The textbook BPE (repeatedly merge the lowest-ranked adjacent pair, leftmost on ties) written
 * as plainly as possible, as the reference for the optimised model.
 */
function referenceBpe(word: string, ranks: Map<string, number>, vocab: Record<string, number>): number[] {
  const symbols = [...word];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let index = 0; index + 1 < symbols.length; index++) {
      const rank = ranks.get(`${symbols[index]} ${symbols[index + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = index;
      }
    }
    if (best === -1) break;
    symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!);
  }
  return symbols.map((symbol) => vocab[symbol]!);
}

/** A random vocabulary over a 4-letter alphabet and ▁, with merges that build longer pieces. */
function randomModel(seed: number) {
  const random = seededRandom(seed);
  const alphabet = ['a', 'b', 'c', 'd', '▁'];
  const vocab: Record<string, number> = {};
  alphabet.forEach((letter, index) => (vocab[letter] = index));
  const pieces = [...alphabet];
  const merges: Array<[string, string]> = [];
  const ranks = new Map<string, number>();
  while (merges.length < 120) {
    const left = pieces[Math.floor(random() * pieces.length)]!;
    const right = pieces[Math.floor(random() * pieces.length)]!;
    const merged = left + right;
    if (ranks.has(`${left} ${right}`) || merged.length > 8) continue;
    ranks.set(`${left} ${right}`, merges.length);
    merges.push([left, right]);
    if (vocab[merged] === undefined) {
      vocab[merged] = pieces.length;
      pieces.push(merged);
    }
  }
  return { random, alphabet, vocab, merges, ranks };
}

describe('BpeModel', () => {
  it('matches the textbook algorithm on random words, short (scan) and long (heap)', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const { random, alphabet, vocab, merges, ranks } = randomModel(seed);
      const model = new BpeModel({ type: 'BPE', vocab, merges, byte_fallback: false, unk_token: null });
      for (let sample = 0; sample < 60; sample++) {
        const length = sample < 30 ? 1 + Math.floor(random() * 40) : 49 + Math.floor(random() * 400);
        let word = '';
        for (let index = 0; index < length; index++) word += alphabet[Math.floor(random() * alphabet.length)];
        const ids: number[] = [];
        model.encodeWord(word, ids);
        // Textbook BPE on the whole word: also checks that cutting words at "x▁" is exact.
        expect(ids).toEqual(referenceBpe(word, ranks, vocab));
      }
    }
  });

  it('encodes a long word without spaces in near-linear time', () => {
    const vocab: Record<string, number> = { 一: 0, 二: 1, 一二: 2, 一二一二: 3 };
    const model = new BpeModel({ type: 'BPE', vocab, merges: [['一', '二'], ['一二', '一二']] });
    const timeFor = (length: number) => {
      const word = '一二'.repeat(length / 2);
      const start = performance.now();
      const ids: number[] = [];
      model.encodeWord(word, ids);
      expect(ids.length).toBe(length / 4);
      return performance.now() - start;
    };
    timeFor(20_000);
    // Best of three, so a busy machine does not turn one slow run into a failure.
    const small = Math.min(timeFor(100_000), timeFor(100_000), timeFor(100_000));
    const large = Math.min(timeFor(400_000), timeFor(400_000), timeFor(400_000));
    // Quadratic would be 16x; allow generous noise for a shared machine.
    expect(large / small).toBeLessThan(8);
    expect(large).toBeLessThan(2000);
  });
});
