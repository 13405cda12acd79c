import { AutoProcessor, RawImage, type PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../src/chat/apply-chat-template';
import type { GemmaTokenizer } from '../src/gemma-tokenizer';
import { buildCorpus, seededRandom } from './corpus';
import { ensureGemma3nFixtureFolder, gemma3ModelsFolder } from './gemma3n-fixture-folder';
import { loadOracleTokenizer, loadOurTokenizer } from './oracle';

/**
 * Parity with transformers.js 4.3 (`AutoTokenizer` / `AutoProcessor` offline on the same fixture
 * folder). Mismatches are collected and shown (first few) instead of failing on the first one,
 * so a regression shows its extent.
 */

interface Mismatch {
  index: number;
  text: string;
  ours: unknown;
  theirs: unknown;
}

function preview(mismatches: Mismatch[]): Array<Record<string, unknown>> {
  return mismatches.slice(0, 5).map((mismatch) => ({
    index: mismatch.index,
    text: JSON.stringify(mismatch.text.slice(0, 120)),
    ours: JSON.stringify(mismatch.ours).slice(0, 300),
    theirs: JSON.stringify(mismatch.theirs).slice(0, 300),
  }));
}

function sameIds(left: readonly number[], right: readonly number[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

describe('parity with transformers.js on the Gemma 3n fixture', () => {
  let ours: GemmaTokenizer;
  let theirs: PreTrainedTokenizer;
  let corpus: string[];
  let corpusIds: number[][];

  beforeAll(async () => {
    const folder = ensureGemma3nFixtureFolder();
    ours = loadOurTokenizer(folder);
    theirs = await loadOracleTokenizer(folder);
    corpus = buildCorpus({ addedTokens: ours.addedTokens.map((token) => token.content) });
    corpusIds = corpus.map((text) => ours.encode(text));
  });

  it('covers what the issue asks for', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    expect(corpus.filter((text) => text.length > 100_000).length).toBe(3);
    const specials = ours.addedTokens.filter((token) => token.special).map((token) => token.content);
    for (const special of specials) expect(corpus.some((text) => text.includes(special))).toBe(true);
    expect(corpus.some((text) => /<unused\d+>/.test(text))).toBe(true);
    expect(corpus.some((text) => text.includes('\u200d'))).toBe(true);
    expect(corpus.some((text) => text.includes('\u0000'))).toBe(true);
  });

  it('encodes every corpus string to the same ids, with and without special tokens', () => {
    const mismatches: Mismatch[] = [];
    corpus.forEach((text, index) => {
      const theirIds = theirs.encode(text);
      if (!sameIds(corpusIds[index]!, theirIds)) mismatches.push({ index, text, ours: corpusIds[index], theirs: theirIds });
      const ourPlain = ours.encode(text, { addSpecialTokens: false });
      const theirPlain = theirs.encode(text, { add_special_tokens: false });
      if (!sameIds(ourPlain, theirPlain)) mismatches.push({ index, text, ours: ourPlain, theirs: theirPlain });
    });
    expect(preview(mismatches)).toEqual([]);
    // Sanity: the corpus exercises byte fallback and the ids above Gemma 3's range.
    const allIds = new Set(corpusIds.flat());
    expect(allIds.has(ours.tokenToId('<0xF0>')!)).toBe(true);
    expect(allIds.has(262273)).toBe(true);
    expect(allIds.has(262399)).toBe(true);
  });

  it('decodes every corpus encoding to the same text, with and without special tokens', () => {
    const mismatches: Mismatch[] = [];
    corpusIds.forEach((ids, index) => {
      if (ids.length === 0) return;
      for (const skipSpecialTokens of [false, true]) {
        const ourText = ours.decode(ids, { skipSpecialTokens });
        const theirText = theirs.decode(ids, { skip_special_tokens: skipSpecialTokens });
        if (ourText !== theirText) mismatches.push({ index, text: corpus[index]!, ours: ourText, theirs: theirText });
      }
    });
    expect(preview(mismatches)).toEqual([]);
  });

  it('decodes random id sequences over the whole vocabulary like transformers.js', () => {
    // Byte-fallback ids are left out: on a run that is not valid UTF-8 the two implementations
    // differ by design (see decoder.test.ts); every run an encoder produces is valid.
    const random = seededRandom(7);
    const mismatches: Mismatch[] = [];
    for (let sequence = 0; sequence < 300; sequence++) {
      const ids: number[] = [];
      const length = 1 + Math.floor(random() * 30);
      while (ids.length < length) {
        const id = Math.floor(random() * ours.vocabularySize);
        if (!/^<0x[0-9A-F]{2}>$/.test(ours.idToToken(id)!)) ids.push(id);
      }
      for (const skipSpecialTokens of [false, true]) {
        const ourText = ours.decode(ids, { skipSpecialTokens });
        const theirText = theirs.decode(ids, { skip_special_tokens: skipSpecialTokens });
        if (ourText !== theirText) mismatches.push({ index: sequence, text: String(ids), ours: ourText, theirs: theirText });
      }
    }
    expect(preview(mismatches)).toEqual([]);
  });

  it('renders the chat template byte for byte like apply_chat_template', () => {
    const conversations: ChatMessage[][] = [
      [{ role: 'user', content: 'Hello!' }],
      [{ role: 'user', content: '  padded question  \n' }],
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Bye' },
      ],
      [
        { role: 'system', content: [{ type: 'text', text: 'System as items.' }] },
        { role: 'user', content: [{ type: 'image' }, { type: 'text', text: ' What is this? ' }] },
      ],
      [{ role: 'user', content: [{ type: 'audio' }, { type: 'text', text: 'Transcribe.' }] }],
      [
        { role: 'user', content: [{ type: 'image' }, { type: 'image' }, { type: 'audio' }, { type: 'text', text: 'Compare.' }] },
        { role: 'model', content: 'They differ.' },
        { role: 'user', content: [{ type: 'text', text: 'How?' }, { type: 'text', text: 'Briefly.' }] },
      ],
      [{ role: 'user', content: '日本語で答えて 👍 <b>bold</b>' }],
    ];
    for (const messages of conversations) {
      for (const addGenerationPrompt of [false, true]) {
        const ourText = ours.applyChatTemplate(messages, { addGenerationPrompt });
        const theirText = theirs.apply_chat_template(messages as never, { tokenize: false, add_generation_prompt: addGenerationPrompt });
        expect(ourText).toBe(theirText);
      }
    }
    expect(ours.applyChatTemplate(conversations[2]!, { addGenerationPrompt: true })).toBe(
      '<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n' +
        '<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n',
    );
  });

  it('expands media placeholders and tokenizes like the Gemma3nProcessor', async () => {
    const processor = await AutoProcessor.from_pretrained(ensureGemma3nFixtureFolder(), { local_files_only: true });
    const messages: ChatMessage[] = [
      { role: 'user', content: [{ type: 'image' }, { type: 'audio' }, { type: 'text', text: 'Describe both.' }] },
    ];
    const prompt = processor.apply_chat_template(messages as never, { add_generation_prompt: true }) as string;
    expect(ours.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(prompt);

    const image = new RawImage(new Uint8ClampedArray(16 * 16 * 3).fill(128), 16, 16, 3);
    const audio = new Float32Array(16_000).map((_, index) => Math.sin(index / 10) * 0.1);
    const inputs = (await processor(prompt, image, audio, { add_special_tokens: false })) as {
      input_ids: { tolist(): bigint[][] };
    };
    const theirIds = inputs.input_ids.tolist()[0]!.map(Number);
    const ourIds = ours.encodeChat(messages, { addGenerationPrompt: true });
    expect(ourIds).toEqual(theirIds);
    expect(ourIds.filter((id) => id === 262145).length).toBe(256);
    expect(ourIds.filter((id) => id === 262273).length).toBe(188);
    expect(ourIds.filter((id) => id === 2).length).toBe(1);
  });
});

describe('parity with transformers.js on the Gemma 3 tokenizer.json as published', () => {
  it('encodes and decodes the corpus the same way (a second real Gemma file)', async () => {
    const folder = gemma3ModelsFolder;
    const ours = loadOurTokenizer(folder);
    const theirs = await loadOracleTokenizer(folder);
    expect(ours.tokenToId('<end_of_image>')).toBe(256000);
    expect(ours.tokenToId('<image_soft_token>')).toBe(262144);
    const corpus = buildCorpus({ addedTokens: ours.addedTokens.map((token) => token.content), mixtures: 600 });
    const mismatches: Mismatch[] = [];
    corpus.forEach((text, index) => {
      const ourIds = ours.encode(text);
      const theirIds = theirs.encode(text);
      if (!sameIds(ourIds, theirIds)) mismatches.push({ index, text, ours: ourIds, theirs: theirIds });
      const ourText = ours.decode(ourIds, { skipSpecialTokens: true });
      const theirText = theirs.decode(theirIds, { skip_special_tokens: true });
      if (ourText !== theirText) mismatches.push({ index, text, ours: ourText, theirs: theirText });
    });
    expect(preview(mismatches)).toEqual([]);
  });
});
