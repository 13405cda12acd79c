import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gemma3n } from '@gemma3n/gemma3n/node';
import { env, Gemma3nForCausalLM, Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import { writeRandomCheckpoint } from '../checkpoint/write-random-checkpoint';
import { convertCheckpoint } from '../convert-checkpoint';
import { onnx } from '../onnx/onnx-proto';
import { writeTextGraphs } from '../text/write-text-graphs';

env.allowRemoteModels = false; // pipeline probes ignore local_files_only otherwise

/**
 * End to end through the product: one random checkpoint converted twice, once per profile, and
 * loaded with `Gemma3n.load(dir)` (the runtime feeds only the contract inputs). Greedy tokens of
 * the optimized folder must equal those of the compat folder, prompt and decode past the window,
 * and transformers.js 4.3 (which feeds only the contract inputs) must load the optimized folder
 * and give the same greedy tokens (text-only, through Gemma3nForCausalLM as in
 * packages/gemma3n/test/transformers-compat.test.ts).
 */
describe.each(['tiny-window-4', 'tiny-gqa-4to1'] as const)('Gemma3n.load on an optimized %s folder', (shape) => {
  let workDirectory: string;
  const folders = { compat: '', optimized: '' };

  beforeAll(async () => {
    workDirectory = await mkdtemp(join(tmpdir(), `optimized-folder-${shape}-`));
    const checkpoint = join(workDirectory, 'checkpoint');
    await writeRandomCheckpoint(checkpoint, tinyShapeConfig(shape), { seed: 3 });
    for (const graph of ['compat', 'optimized'] as const) {
      folders[graph] = join(workDirectory, graph);
      await convertCheckpoint(checkpoint, folders[graph], {
        writeGraphs: (config, weights, onnxDir, options) => writeTextGraphs(config, weights, onnxDir, { ...options, graph }),
      });
    }
  });

  afterAll(async () => {
    await rm(workDirectory, { recursive: true, force: true });
  });

  it('the folders differ in their graphs (GQA in the optimized decoder only)', async () => {
    const hasGqa = async (folder: string) =>
      onnx.ModelProto.decode(await readFile(join(folder, 'onnx', 'decoder_model_merged.onnx'))).graph!.node!.some((node) => node.opType === 'GroupQueryAttention');
    expect(await hasGqa(folders.compat)).toBe(false);
    expect(await hasGqa(folders.optimized)).toBe(true);
  });

  it('greedy tokens equal those of the compat folder', async () => {
    const compat = await Gemma3n.load(folders.compat, { node: { intraOpNumThreads: 1 } });
    const optimized = await Gemma3n.load(folders.optimized, { node: { intraOpNumThreads: 1 } });
    const requests = [
      { promptIds: [2, 40, 41, 42, 43, 44], temperature: 0, maxNewTokens: 24, stopTokenIds: [] },
      { prompt: 'Once upon a time', temperature: 0, maxNewTokens: 16, stopTokenIds: [] },
    ];
    for (const request of requests) {
      const expected = await compat.generate(request);
      const actual = await optimized.generate(request);
      expect(expected.tokenIds).toHaveLength(request.maxNewTokens);
      expect(actual.tokenIds).toEqual(expected.tokenIds);
      expect(actual.text).toBe(expected.text);
    }
    const chatCompat = compat.chat();
    const chatOptimized = optimized.chat();
    for (const turn of ['Hi', 'And again']) {
      const expected = await chatCompat.send(turn, { temperature: 0, maxNewTokens: 6 });
      const actual = await chatOptimized.send(turn, { temperature: 0, maxNewTokens: 6 });
      expect(actual.tokenIds).toEqual(expected.tokenIds);
    }
    await compat.dispose();
    await optimized.dispose();
  });

  it('transformers.js loads the optimized folder and gives the same greedy tokens', async () => {
    const ours = await Gemma3n.load(folders.optimized, { node: { intraOpNumThreads: 1 } });
    const theirs = await Gemma3nForCausalLM.from_pretrained(folders.optimized, { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    const promptIds = Array.from({ length: 23 }, (_, index) => (index === 0 ? 2 : 5 + ((index * 37) % 200)));
    const newTokens = 20;
    const result = await ours.generate({ promptIds, temperature: 0, maxNewTokens: newTokens, stopTokenIds: [] });
    const output = (await theirs.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, promptIds.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]),
      max_new_tokens: newTokens,
      do_sample: false,
      eos_token_id: [],
    })) as Tensor;
    const theirTokens = Array.from(output.data as BigInt64Array, Number).slice(promptIds.length);
    expect(theirTokens).toHaveLength(newTokens);
    expect(result.tokenIds).toEqual(theirTokens);
    expect(new Set(result.tokenIds).size).toBeGreaterThan(3);
    await ours.dispose();
    await theirs.dispose();
  });
});
