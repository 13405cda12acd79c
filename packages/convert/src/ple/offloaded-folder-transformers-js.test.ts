import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, Gemma3nForCausalLM, Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../convert-make-tiny-model';
import { countExternalData } from '../convert-checkpoint';
import { offloadPerLayerEmbeddings } from './offload-per-layer-embeddings';

env.allowRemoteModels = false; // pipeline probes ignore local_files_only otherwise

/**
 * "Everything we write must load in transformers.js": a folder with the PLE companions (and
 * config.json announcing their external data, as the converter would) still loads there and
 * gives the greedy tokens of the same folder before the split.
 */
describe('an offloaded folder in transformers.js 4.3', () => {
  let workDirectory: string;
  const folder = () => join(workDirectory, 'model');

  beforeAll(async () => {
    workDirectory = await mkdtemp(join(tmpdir(), 'ple-transformers-'));
    await makeTinyModel(folder(), { shape: 'tiny-window-4', seed: 5 });
  });
  afterAll(async () => {
    await rm(workDirectory, { recursive: true, force: true });
  });

  async function greedy(): Promise<number[]> {
    const model = await Gemma3nForCausalLM.from_pretrained(folder(), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
    const promptIds = [2, 40, 41, 42, 43, 44, 17, 17];
    const output = (await model.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(promptIds, BigInt), [1, promptIds.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]),
      max_new_tokens: 12,
      do_sample: false,
      eos_token_id: [],
    })) as Tensor;
    await model.dispose();
    return Array.from(output.data as BigInt64Array, Number).slice(promptIds.length);
  }

  it('loads with the companions present and gives the same tokens', async () => {
    const before = await greedy();
    const [result] = await offloadPerLayerEmbeddings(folder());
    const configPath = join(folder(), 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    const dataFiles = countExternalData(result!.textFiles);
    expect(dataFiles).toEqual({ 'embed_tokens_text.onnx': 1 });
    config['transformers.js_config'].use_external_data_format = { ...config['transformers.js_config'].use_external_data_format, ...dataFiles };
    await writeFile(configPath, JSON.stringify(config));
    expect(await greedy()).toEqual(before);
    expect(new Set(before).size).toBeGreaterThan(3);
  });
});
