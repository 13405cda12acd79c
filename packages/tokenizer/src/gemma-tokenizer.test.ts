import { InputError, TokenizerError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { specialAdded, tinyId, tinyTokenizerJson, tinyVocab } from '../test/tiny-tokenizer';
import { GemmaTokenizer } from './gemma-tokenizer';

const byte = (value: number) => 4 + value;

describe('GemmaTokenizer on a hand-made tokenizer.json', () => {
  it('merges lowest rank first, leftmost on ties', () => {
    const tokenizer = GemmaTokenizer.fromJSON(tinyTokenizerJson());
    // ab (rank 0) before bc (rank 3): "abc" → ab + c → abc (rank 4).
    expect(tokenizer.encode('abc', { addSpecialTokens: false })).toEqual([tinyId('abc')]);
    // "aaa" → the leftmost pair merges first: aa + a.
    expect(tokenizer.encode('aaa', { addSpecialTokens: false })).toEqual([tinyId('aa'), tinyId('a')]);
    expect(tokenizer.encode('aaaa', { addSpecialTokens: false })).toEqual([tinyId('aa'), tinyId('aa')]);
    const bcFirst = GemmaTokenizer.fromJSON(tinyTokenizerJson({ merges: [['b', 'c'], ['a', 'b']] }));
    expect(bcFirst.encode('abc', { addSpecialTokens: false })).toEqual([tinyId('a'), tinyId('bc')]);
  });

  it('reads merges in the older "left right" string form the same way', () => {
    const pairs = tinyTokenizerJson();
    const strings = { ...pairs, model: { ...pairs.model, merges: pairs.model.merges.map((merge) => (merge as string[]).join(' ')) } };
    const text = 'abc aa ab x';
    expect(GemmaTokenizer.fromJSON(strings).encode(text)).toEqual(GemmaTokenizer.fromJSON(pairs).encode(text));
  });

  it('applies Unicode normalizers before BPE', () => {
    const json = tinyTokenizerJson({
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    });
    // NFKC folds the fullwidth "ＡＢ" to "AB", Lowercase to "ab"; NFKC composes e + U+0301 to "é".
    expect(GemmaTokenizer.fromJSON(json).encode('ＡＢ e\u0301', { addSpecialTokens: false })).toEqual([tinyId('ab'), tinyId('▁'), tinyId('é')]);
  });

  it('replaces spaces with ▁ and adds <bos> unless told not to', () => {
    const tokenizer = GemmaTokenizer.fromJSON(tinyTokenizerJson());
    expect(tokenizer.encode('ab ab')).toEqual([2, tinyId('ab'), tinyId('▁ab')]);
    expect(tokenizer.encode(' x')).toEqual([2, tinyId('▁x')]);
    expect(tokenizer.encode('')).toEqual([2]);
    expect(tokenizer.encode('', { addSpecialTokens: false })).toEqual([]);
  });

  it('falls back to UTF-8 byte tokens for characters outside the vocabulary', () => {
    const tokenizer = GemmaTokenizer.fromJSON(tinyTokenizerJson());
    // "ü" is C3 BC; "😀" is F0 9F 98 80; "é" is in the vocabulary.
    expect(tokenizer.encode('üé😀', { addSpecialTokens: false })).toEqual([
      byte(0xc3), byte(0xbc), tinyId('é'), byte(0xf0), byte(0x9f), byte(0x98), byte(0x80),
    ]);
    expect(tokenizer.decode([byte(0xc3), byte(0xbc), tinyId('é')])).toBe('üé');
  });

  it('uses unk without byte fallback, fused only with fuse_unk', () => {
    const base = tinyTokenizerJson();
    const fused = GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, byte_fallback: false } });
    expect(fused.encode('aüüb', { addSpecialTokens: false })).toEqual([tinyId('a'), 3, tinyId('b')]);
    const unfused = GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, byte_fallback: false, fuse_unk: false } });
    expect(unfused.encode('aüüb', { addSpecialTokens: false })).toEqual([tinyId('a'), 3, 3, tinyId('b')]);
  });

  it('with ignore_merges takes a word found in the vocabulary whole', () => {
    const base = tinyTokenizerJson({ merges: [['b', 'c'], ['a', 'b']] });
    expect(GemmaTokenizer.fromJSON(base).encode('abc', { addSpecialTokens: false })).toEqual([tinyId('a'), tinyId('bc')]);
    const whole = GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, ignore_merges: true } });
    expect(whole.encode('abc', { addSpecialTokens: false })).toEqual([tinyId('abc')]);
  });

  it('turns a byte run that is not UTF-8 into one U+FFFD per byte, like Hugging Face tokenizers', () => {
    const tokenizer = GemmaTokenizer.fromJSON(tinyTokenizerJson());
    // E5 8F is a truncated 3-byte sequence. (transformers.js would print a single U+FFFD here.)
    expect(tokenizer.decode([byte(0xe5), byte(0x8f), tinyId('a')])).toBe('\uFFFD\uFFFDa');
    expect(tokenizer.decode([byte(0xe5), byte(0x8f), byte(0xab), tinyId('a')])).toBe('叫a');
    expect(tokenizer.decode([byte(0xc3)])).toBe('\uFFFD');
  });

  it('matches added tokens leftmost-longest on the raw text, before BPE', () => {
    const json = tinyTokenizerJson();
    json.added_tokens.push(
      specialAdded(300, '<start_of_turn>'),
      specialAdded(301, '<start>', { special: false }),
      specialAdded(302, '\n', { special: false }),
      specialAdded(303, '\n\n', { special: false }),
    );
    const tokenizer = GemmaTokenizer.fromJSON(json);
    expect(tokenizer.encode('a<start_of_turn>b<start>\n\n\nc', { addSpecialTokens: false })).toEqual([
      tinyId('a'), 300, tinyId('b'), 301, 303, 302, tinyId('c'),
    ]);
    expect(tokenizer.decode([300, tinyId('a'), 303], { skipSpecialTokens: true })).toBe('a\n\n');
    expect(tokenizer.decode([300, tinyId('a'), 301], { skipSpecialTokens: false })).toBe('<start_of_turn>a<start>');
  });

  it('honours lstrip, rstrip, single_word and normalized on added tokens', () => {
    const json = tinyTokenizerJson();
    json.added_tokens.push(
      specialAdded(300, '<l>', { lstrip: true }),
      specialAdded(301, '<r>', { rstrip: true }),
      specialAdded(302, '<w>', { single_word: true }),
      specialAdded(303, 'b c', { normalized: true, special: false }),
    );
    const tokenizer = GemmaTokenizer.fromJSON(json);
    const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
    expect(encode('a  <l>b')).toEqual([tinyId('a'), 300, tinyId('b')]);
    expect(encode('a<r>  b')).toEqual([tinyId('a'), 301, tinyId('b')]);
    expect(encode(' <w> ')).toEqual([tinyId('▁'), 302, tinyId('▁')]);
    // Inside a word, a single_word token is plain text: '<' and '>' fall back to bytes.
    expect(encode('a<w>')).toEqual([tinyId('a'), byte(0x3c), 4 + 0x77, byte(0x3e)]);
    // A normalized token is compared with the normalized text, "b▁c".
    expect(encode('ab c')).toEqual([tinyId('a'), 303]);
  });

  it('supports the Gemma 1 pipeline: Prepend normalizer, no pre-tokenizer, Strip decoder', () => {
    const json = tinyTokenizerJson({
      normalizer: {
        type: 'Sequence',
        normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
      },
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
    });
    const tokenizer = GemmaTokenizer.fromJSON(json);
    const ids = tokenizer.encode('ab x', { addSpecialTokens: false });
    expect(ids).toEqual([tinyId('▁ab'), tinyId('▁x')]);
    expect(tokenizer.decode(ids)).toBe('ab x');
  });

  it('supports Metaspace pre-tokenizer and decoder', () => {
    const tokenizer = GemmaTokenizer.fromJSON(
      tinyTokenizerJson({
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      }),
    );
    const ids = tokenizer.encode('ab x', { addSpecialTokens: false });
    expect(ids).toEqual([tinyId('▁ab'), tinyId('▁x')]);
    expect(tokenizer.decode(ids)).toBe('ab x');
  });

  it('looks tokens and ids up both ways, added tokens included', () => {
    const json = tinyTokenizerJson();
    json.added_tokens.push(specialAdded(400, '<image_soft_token>'));
    const tokenizer = GemmaTokenizer.fromJSON(json, { bos_token: '<bos>', eos_token: { content: '<eos>' } });
    expect(tokenizer.tokenToId('▁ab')).toBe(tinyId('▁ab'));
    expect(tokenizer.tokenToId('<image_soft_token>')).toBe(400);
    expect(tokenizer.tokenToId('constructor')).toBeUndefined();
    expect(tokenizer.idToToken(400)).toBe('<image_soft_token>');
    expect(tokenizer.idToToken(399)).toBeUndefined();
    expect(tokenizer.vocabularySize).toBe(401);
    expect(tokenizer.specialTokens.bos).toEqual({ content: '<bos>', id: 2 });
    expect(tokenizer.specialTokens.eos).toEqual({ content: '<eos>', id: 1 });
    expect(tokenizer.specialTokens.imageSoftToken).toEqual({ content: '<image_soft_token>', id: 400 });
    expect(tokenizer.specialTokens.startOfAudio).toBeUndefined();
  });
});

describe('GemmaTokenizer errors', () => {
  function messageOf(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      expect(TokenizerError.isInstance(error)).toBe(true);
      return (error as Error).message;
    }
    throw new Error('expected a TokenizerError');
  }

  it('names the unsupported component type and where it is', () => {
    expect(messageOf(() => GemmaTokenizer.fromJSON(tinyTokenizerJson({ normalizer: { type: 'BertNormalizer' } })))).toBe(
      'tokenizer.json: normalizer.type "BertNormalizer" is not supported; supported: Sequence, Replace, Prepend, NFC, NFD, NFKC, NFKD, Lowercase',
    );
    const decoder = { type: 'Sequence', decoders: [{ type: 'Fuse' }, { type: 'CTC' }] };
    expect(messageOf(() => GemmaTokenizer.fromJSON(tinyTokenizerJson({ decoder })))).toContain('decoder.decoders[1].type "CTC" is not supported');
    expect(messageOf(() => GemmaTokenizer.fromJSON(tinyTokenizerJson({ pre_tokenizer: { type: 'ByteLevel' } })))).toContain(
      'pre_tokenizer.type "ByteLevel" is not supported; supported: Sequence, Split, Metaspace',
    );
    const base = tinyTokenizerJson();
    expect(messageOf(() => GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, type: 'Unigram' } }))).toContain(
      'model.type "Unigram" is not supported',
    );
  });

  it('names the malformed key', () => {
    const base = tinyTokenizerJson();
    const { model: _model, ...withoutModel } = base;
    expect(messageOf(() => GemmaTokenizer.fromJSON(withoutModel))).toBe('tokenizer.json: model is missing; expected an object');
    expect(messageOf(() => GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, merges: [['a', 'b'], 7] } }))).toBe(
      'tokenizer.json: model.merges[1] is 7; expected a "left right" string or a [left, right] pair',
    );
    expect(messageOf(() => GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, merges: [['a', 'zz']] } }))).toContain(
      'model.merges[0] is an array of 2; expected tokens of model.vocab ("zz" is not)',
    );
    // Merge results are resolved when a merge is first applied (load stays fast), so this one
    // surfaces on the first encode that needs it, still naming the merge.
    const missingResult = GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, merges: [['a', 'c']] } });
    expect(messageOf(() => missingResult.encode('ac'))).toBe(
      'tokenizer.json: model.merges[0] is an array of 2; expected a pair whose concatenation "ac" is in model.vocab',
    );
    expect(messageOf(() => GemmaTokenizer.fromJSON({ ...base, model: { ...base.model, vocab: { ...tinyVocab(), bad: -1 } } }))).toContain(
      'model.vocab["bad"] is -1',
    );
    expect(messageOf(() => GemmaTokenizer.fromJSON({ ...base, added_tokens: [{ id: 'x', content: '<a>' }] as never }))).toContain(
      'added_tokens[0].id is "x"; expected a non-negative integer',
    );
    expect(messageOf(() => GemmaTokenizer.fromJSON({ ...base, normalizer: { type: 'Replace', pattern: { Regex: '(' }, content: '' } }))).toContain(
      'normalizer.pattern.Regex is "("',
    );
    expect(messageOf(() => GemmaTokenizer.fromJSON('{"model": '))).toMatch(/^tokenizer.json: not valid JSON/);
    expect(messageOf(() => GemmaTokenizer.fromJSON(base, { bos_token: '<nope>' }))).toBe(
      'tokenizer_config.json: bos_token "<nope>" is not a token of tokenizer.json',
    );
  });

  it('rejects text that is not a string as an InputError', () => {
    const tokenizer = GemmaTokenizer.fromJSON(tinyTokenizerJson());
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow('text is 42; expected a string');
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(InputError);
  });

  it('names the id that cannot be decoded', () => {
    const tokenizer = GemmaTokenizer.fromJSON(tinyTokenizerJson());
    expect(messageOf(() => tokenizer.decode([2, 999]))).toBe('cannot decode id 999 at position 1: ids must be integers in [0, 273)');
    expect(messageOf(() => tokenizer.decode([-1]))).toContain('cannot decode id -1 at position 0');
    expect(messageOf(() => tokenizer.decode([1.5]))).toContain('cannot decode id 1.5');
    const withHole = tinyTokenizerJson();
    withHole.added_tokens.push(specialAdded(500, '<far>'));
    expect(messageOf(() => GemmaTokenizer.fromJSON(withHole).decode([400]))).toBe('cannot decode id 400 at position 0: no token has this id');
  });
});
