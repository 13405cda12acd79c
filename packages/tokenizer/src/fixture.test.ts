import { TokenizerError } from '@gemma3n/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readGemma3Files } from '../test/gemma3n-fixture-folder';
import { buildGemma3nTokenizerFiles, gemma3nVocabularySize, type Gemma3nTokenizerFiles } from './fixture';
import type { TokenizerJson } from './tokenizer-json-types';

describe('buildGemma3nTokenizerFiles', () => {
  let gemma3: ReturnType<typeof readGemma3Files>;
  let files: Gemma3nTokenizerFiles;
  beforeAll(() => {
    gemma3 = readGemma3Files();
    files = buildGemma3nTokenizerFiles(gemma3.tokenizerJson, gemma3.tokenizerConfig);
  });

  it('puts the multimodal tokens at the Gemma 3n ids of the architecture doc', () => {
    const byId = new Map(files.tokenizerJson.added_tokens.map((token) => [token.id, token]));
    const expected: Array<[number, string]> = [
      [0, '<pad>'], [1, '<eos>'], [2, '<bos>'], [3, '<unk>'], [4, '<mask>'],
      [105, '<start_of_turn>'], [106, '<end_of_turn>'],
      [255999, '<start_of_image>'], [256000, '<start_of_audio>'],
      [262144, '<end_of_image>'], [262145, '<image_soft_token>'],
      [262272, '<end_of_audio>'], [262273, '<audio_soft_token>'],
    ];
    for (const [id, content] of expected) expect(byId.get(id)?.content).toBe(content);
    for (const id of [255999, 256000, 262144, 262145, 262272, 262273]) expect(byId.get(id)?.special).toBe(true);
  });

  it('fills every id up to 262399 exactly once, with reserved tokens numbered on from Gemma 3', () => {
    const ids = files.tokenizerJson.added_tokens.map((token) => token.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Math.max(...ids)).toBe(gemma3nVocabularySize - 1);
    const byId = new Map(files.tokenizerJson.added_tokens.map((token) => [token.id, token]));
    for (let id = 262144; id < gemma3nVocabularySize; id++) expect(byId.has(id)).toBe(true);
    expect(byId.get(262146)).toEqual({
      id: 262146, content: '<unused6242>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false,
    });
    expect(byId.get(262271)?.content).toBe('<unused6367>');
    expect(byId.get(262274)?.content).toBe('<unused6368>');
    expect(byId.get(262399)?.content).toBe('<unused6493>');
    // Gemma 3 tokens that did not move keep their id.
    expect(byId.get(256001)?.content).toBe('<unused99>');
    expect(files.tokenizerJson.added_tokens.length).toBe(gemma3.tokenizerJson.added_tokens.length + 255);
  });

  it('renames id 256000 in the base vocabulary and keeps its size', () => {
    const vocab = files.tokenizerJson.model.vocab;
    expect(vocab['<start_of_audio>']).toBe(256000);
    expect(vocab['<end_of_image>']).toBeUndefined();
    expect(Object.keys(vocab).length).toBe(262144);
    expect(files.tokenizerJson.model.merges).toBe(gemma3.tokenizerJson.model.merges);
    // The input is not modified.
    expect(gemma3.tokenizerJson.model.vocab['<end_of_image>']).toBe(256000);
  });

  it('writes the multimodal keys, the chat template and the processor counts', () => {
    const config = files.tokenizerConfig;
    expect(config.image_token).toBe('<image_soft_token>');
    expect(config.boi_token).toBe('<start_of_image>');
    expect(config.eoi_token).toBe('<end_of_image>');
    expect(config.audio_token).toBe('<audio_soft_token>');
    expect(config.boa_token).toBe('<start_of_audio>');
    expect(config.eoa_token).toBe('<end_of_audio>');
    expect(config.processor_class).toBe('Gemma3nProcessor');
    expect(config.chat_template).toBe(files.chatTemplate);
    expect(config.added_tokens_decoder?.['262273']?.content).toBe('<audio_soft_token>');
    expect(Object.keys(config.added_tokens_decoder ?? {}).length).toBe(files.tokenizerJson.added_tokens.length);
    expect(files.chatTemplate).toContain("{{ '<audio_soft_token>' }}");
    expect(files.processorConfig).toEqual({ processor_class: 'Gemma3nProcessor', audio_seq_length: 188, image_seq_length: 256 });
  });

  it('refuses a tokenizer that is not Gemma 3, and one whose target ids hold real tokens', () => {
    const notGemma: TokenizerJson = { ...gemma3.tokenizerJson, added_tokens: gemma3.tokenizerJson.added_tokens.slice(0, 10) };
    expect(() => buildGemma3nTokenizerFiles(notGemma, {})).toThrow(TokenizerError);
    expect(() => buildGemma3nTokenizerFiles(notGemma, {})).toThrow(/expected the Gemma 3 token <start_of_image> at id 255999/);
    const occupied: TokenizerJson = {
      ...gemma3.tokenizerJson,
      added_tokens: [...gemma3.tokenizerJson.added_tokens, { id: 262273, content: '<tool_call>', special: true }],
    };
    expect(() => buildGemma3nTokenizerFiles(occupied, {})).toThrow(/id 262273 holds "<tool_call>"/);
  });
});
