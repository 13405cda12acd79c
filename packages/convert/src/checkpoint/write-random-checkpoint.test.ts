import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsCheckpoint } from '../safetensors/safetensors-checkpoint';
import { buildSyntheticTokenizerFiles } from './synthetic-tokenizer';
import { TINY_TEXT_SHAPES } from './tiny-text-shapes';
import { writeRandomCheckpoint } from './write-random-checkpoint';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-random-checkpoint-'));
  env.allowRemoteModels = false;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('buildSyntheticTokenizerFiles', () => {
  it.each(['tiny-window-4', 'tiny-gqa-4to1', 'tiny-mha-every-5'] as const)('%s has exactly vocab_size distinct ids and tokens', (shape) => {
    const raw = TINY_TEXT_SHAPES[shape];
    const { tokenizerJson } = buildSyntheticTokenizerFiles(raw);
    const vocab = (tokenizerJson.model as { vocab: Record<string, number> }).vocab;
    const added = tokenizerJson.added_tokens as { id: number; content: string }[];
    const ids = new Map<number, string>(Object.entries(vocab).map(([token, id]) => [id, token]));
    for (const token of added) {
      if (ids.has(token.id)) expect(ids.get(token.id)).toBe(token.content);
      ids.set(token.id, token.content);
    }
    const vocabSize = (raw.text_config as { vocab_size: number }).vocab_size;
    expect(ids.size).toBe(vocabSize);
    expect(Math.min(...ids.keys())).toBe(0);
    expect(Math.max(...ids.keys())).toBe(vocabSize - 1);
    expect(new Set(ids.values()).size).toBe(vocabSize);
  });
});

describe('writeRandomCheckpoint', () => {
  it('writes a complete sharded HF folder whose tokenizer loads in transformers.js', async () => {
    const raw = TINY_TEXT_SHAPES['tiny-window-4'];
    const folder = join(root, 'window-4');
    const { files, weights } = await writeRandomCheckpoint(folder, raw, { seed: 3, shards: 3, dtype: 'BF16' });
    expect((await readdir(folder)).sort()).toEqual([...files].sort());
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((file) => file.endsWith('.safetensors')).length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'))).toEqual(raw);
    const generation = JSON.parse(await readFile(join(folder, 'generation_config.json'), 'utf8'));
    expect(generation).toMatchObject({ eos_token_id: [1, 106], bos_token_id: 2, pad_token_id: 0, top_k: 64, top_p: 0.95 });

    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(checkpoint.names().sort()).toEqual(weights.names().sort());
    const name = 'model.language_model.layers.8.self_attn.k_proj.weight';
    expect(checkpoint.info(name).dtype).toBe('BF16');
    expect(await checkpoint.read(name)).toEqual(weights.get(name));

    const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    // "▁hello" and "▁world" are single pieces built by merges (the normalizer turns spaces into "▁");
    // like Gemma, no space is prepended, so a bare "hello" is spelled letter by letter.
    const ids = tokenizer.encode(' hello world', { add_special_tokens: false });
    expect(ids).toHaveLength(2);
    expect(tokenizer.decode(ids)).toBe(' hello world');
    expect(tokenizer.encode('hello', { add_special_tokens: false })).toHaveLength(5);
    // Characters outside the vocabulary fall back to bytes: "Z" is 0x5A → id 5 + 0x5A = 95; "é" is two bytes.
    expect(tokenizer.encode('Zé', { add_special_tokens: false })).toEqual([95, 107 + 0xc3 - 100, 107 + 0xa9 - 100]);
    expect(tokenizer.decode(tokenizer.encode('Zé!', { add_special_tokens: false }))).toBe('Zé!');
    expect(tokenizer.encode('<start_of_turn>user<end_of_turn><image_soft_token>', { add_special_tokens: false })).toEqual([
      105,
      ...tokenizer.encode('user', { add_special_tokens: false }),
      106,
      321,
    ]);
    const prompt = tokenizer.apply_chat_template([{ role: 'user', content: 'hi' }], { tokenize: false, add_generation_prompt: true });
    expect(prompt).toBe('<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n');
  });

  it('refuses an existing folder unless overwrite is set, and leaves no temporary folder', async () => {
    const raw = TINY_TEXT_SHAPES['tiny-gqa-4to1'];
    const folder = join(root, 'gqa');
    await writeRandomCheckpoint(folder, raw, { seed: 1 });
    await expect(writeRandomCheckpoint(folder, raw, { seed: 2 })).rejects.toThrow(/does not exist yet/);
    await writeRandomCheckpoint(folder, raw, { seed: 2, overwrite: true });
    expect((await readdir(root)).filter((entry) => entry.startsWith('.'))).toEqual([]);
  });
});
