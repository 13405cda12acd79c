import { TokenizerError } from '@gemma3n/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../test/corpus';
import { loadOurTokenizer } from '../test/oracle';
import { tinyTokenizerJson } from '../test/tiny-tokenizer';
import type { GemmaTokenizer } from './gemma-tokenizer';
import { GemmaTokenizer as Tokenizer } from './gemma-tokenizer';

function stream(tokenizer: GemmaTokenizer, ids: readonly number[], skipSpecialTokens = false): string[] {
  const detokenizer = tokenizer.createStreamingDetokenizer({ skipSpecialTokens });
  const deltas = ids.map((id) => detokenizer.push(id));
  deltas.push(detokenizer.flush());
  return deltas;
}

describe('StreamingDetokenizer on the Gemma 3n fixture', () => {
  let tokenizer: GemmaTokenizer;
  beforeAll(() => {
    tokenizer = loadOurTokenizer();
  });

  it('holds a byte-fallback run until it is complete, then emits the whole character', () => {
    // Rare astral characters are outside Gemma's vocabulary and encode as byte-fallback runs.
    const ids = tokenizer.encode('Hi 𝔄𓀀 there', { addSpecialTokens: false });
    const byteIds = ids.filter((id) => /^<0x[0-9A-F]{2}>$/.test(tokenizer.idToToken(id)!));
    expect(byteIds.length).toBeGreaterThanOrEqual(4);
    const deltas = stream(tokenizer, ids);
    expect(deltas.join('')).toBe(tokenizer.decode(ids));
    // Every delta is well-formed text: no lone surrogates, no replacement characters.
    for (const delta of deltas) {
      expect(delta).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      expect(delta).not.toContain('\uFFFD');
    }
    // Deltas are emitted as each non-byte token arrives; byte tokens themselves emit nothing.
    ids.forEach((id, index) => {
      if (byteIds.includes(id)) expect(deltas[index]).toBe('');
    });
  });

  it('concatenates to decode(ids) for random sequences, byte runs and special tokens included', () => {
    const random = seededRandom(99);
    const byteTokenIds = Array.from({ length: 256 }, (_, value) => tokenizer.tokenToId(`<0x${value.toString(16).toUpperCase().padStart(2, '0')}>`)!);
    const specials = tokenizer.addedTokens.filter((token) => token.special).map((token) => token.id);
    const emoji = tokenizer.encode('😀👨‍👩‍👧', { addSpecialTokens: false });
    for (let sequence = 0; sequence < 400; sequence++) {
      const ids: number[] = [];
      const length = 1 + Math.floor(random() * 25);
      while (ids.length < length) {
        const roll = random();
        if (roll < 0.3) ids.push(byteTokenIds[Math.floor(random() * 256)]!);
        else if (roll < 0.45) ids.push(specials[Math.floor(random() * specials.length)]!);
        else if (roll < 0.55) ids.push(...emoji);
        else ids.push(Math.floor(random() * tokenizer.vocabularySize));
      }
      for (const skipSpecialTokens of [false, true]) {
        expect(stream(tokenizer, ids, skipSpecialTokens).join('')).toBe(tokenizer.decode(ids, { skipSpecialTokens }));
      }
    }
  });

  it('lets a skipped special token sit inside a byte run, as decode does', () => {
    const bytes = [0xe5, 0x8f, 0xab].map((value) => tokenizer.tokenToId(`<0x${value.toString(16).toUpperCase()}>`)!);
    const ids = [bytes[0]!, bytes[1]!, 106, bytes[2]!];
    expect(stream(tokenizer, ids, true).join('')).toBe('叫');
    expect(stream(tokenizer, ids, false).join('')).toBe('\uFFFD\uFFFD<end_of_turn>\uFFFD');
  });

  it('rejects an unknown id by naming it', () => {
    const detokenizer = tokenizer.createStreamingDetokenizer();
    expect(() => detokenizer.push(tokenizer.vocabularySize)).toThrow(TokenizerError);
    expect(() => detokenizer.push(tokenizer.vocabularySize)).toThrow(`cannot decode id ${tokenizer.vocabularySize}`);
  });
});

describe('StreamingDetokenizer with a Strip decoder (Gemma 1 style)', () => {
  it('strips only the very first space, like a full decode', () => {
    const tokenizer = Tokenizer.fromJSON(
      tinyTokenizerJson({
        normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
        pre_tokenizer: null,
        decoder: {
          type: 'Sequence',
          decoders: [
            { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
            { type: 'ByteFallback' },
            { type: 'Fuse' },
            { type: 'Strip', content: ' ', start: 1, stop: 0 },
          ],
        },
      }),
    );
    const ids = tokenizer.encode('ab  x ü', { addSpecialTokens: false });
    const deltas = stream(tokenizer, ids);
    expect(deltas.join('')).toBe(tokenizer.decode(ids));
    expect(deltas.join('')).toBe('ab  x ü');
  });
});
