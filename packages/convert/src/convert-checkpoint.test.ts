import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, InputError, ModelFileError } from '@gemma3n/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_TEXT_SHAPES } from './checkpoint/tiny-text-shapes';
import { writeRandomCheckpoint } from './checkpoint/write-random-checkpoint';
import { convertCheckpoint, countExternalData, type ConvertProgressEvent } from './convert-checkpoint';
import { writeSafetensorsCheckpoint } from './safetensors/write-safetensors';
import { onnx } from './onnx/onnx-proto';

let root: string;
let checkpointDir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-convert-'));
  checkpointDir = join(root, 'checkpoint');
  // Sharded bf16, like the released checkpoints.
  await writeRandomCheckpoint(checkpointDir, TINY_TEXT_SHAPES['tiny-window-4'], { seed: 5, dtype: 'BF16', shards: 3 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

/** Everything in `root` other than the named entries, hidden temporary folders included. */
async function leftovers(...keep: string[]): Promise<string[]> {
  return (await readdir(root)).filter((entry) => !keep.includes(entry));
}

/** A copy of the good checkpoint with one change, in a fresh folder. */
async function brokenCheckpoint(name: string, change: (folder: string) => Promise<void>): Promise<string> {
  // Inputs live apart from `root`, whose listing shows what a conversion left behind.
  const folder = join(root, 'inputs', name);
  await writeRandomCheckpoint(folder, TINY_TEXT_SHAPES['tiny-window-4'], { seed: 5 });
  await change(folder);
  return folder;
}

describe('convertCheckpoint end to end', () => {
  it('writes the model folder of the contract with the config fields transformers.js reads', async () => {
    const outputDir = join(root, 'converted');
    const events: ConvertProgressEvent[] = [];
    const result = await convertCheckpoint(checkpointDir, outputDir, {
      onProgress: (event) => events.push(event),
      // Small external-data files so the chunked layout and its config entry are exercised.
      graphOptions: { maxExternalDataFileBytes: 64 * 1024 },
    });
    const written = [...(await readdir(outputDir)), ...(await readdir(join(outputDir, 'onnx'))).map((file) => `onnx/${file}`)];
    expect(written.filter((file) => file !== 'onnx').sort()).toEqual([...result.files].sort());
    for (const file of [
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'chat_template.jinja',
      'processor_config.json',
      'preprocessor_config.json',
      'onnx/embed_tokens.onnx',
      'onnx/decoder_model_merged.onnx',
      'onnx/decoder_model_merged.onnx_data',
      'onnx/decoder_model_merged.onnx_data_1',
    ]) {
      expect(result.files).toContain(file);
    }

    const config = await readJson(join(outputDir, 'config.json'));
    expect(config.model_type).toBe('gemma3n');
    expect(config.architectures).toEqual(['Gemma3nForConditionalGeneration']);
    expect(config.image_token_id).toBe(321);
    expect(config.audio_token_id).toBe(353);
    expect(config.text_config).toMatchObject({ model_type: 'gemma3n_text', num_hidden_layers: 9, num_key_value_heads: 2, head_dim: 8 });
    const chunks = result.externalData['decoder_model_merged.onnx'] ?? 0;
    expect(chunks).toBeGreaterThanOrEqual(2);
    expect(config['transformers.js_config']).toEqual({ dtype: 'fp32', use_external_data_format: result.externalData });
    expect(result.files.filter((file) => file.startsWith('onnx/decoder_model_merged.onnx_data'))).toHaveLength(chunks);
    // Everything else of the input config is kept.
    expect(config.text_config.sliding_window).toBe(4);
    expect(config.vision_config).toEqual(TINY_TEXT_SHAPES['tiny-window-4'].vision_config);

    expect(await readJson(join(outputDir, 'generation_config.json'))).toMatchObject({
      eos_token_id: [1, 106], bos_token_id: 2, pad_token_id: 0, do_sample: true, top_k: 64, top_p: 0.95,
    });
    expect(await readJson(join(outputDir, 'processor_config.json'))).toEqual({
      processor_class: 'Gemma3nProcessor', audio_seq_length: 188, image_seq_length: 256,
    });
    expect(await readJson(join(outputDir, 'preprocessor_config.json'))).toMatchObject({
      processor_class: 'Gemma3nProcessor',
      image_processor_type: 'SiglipImageProcessorFast',
      feature_extractor_type: 'Gemma3nAudioFeatureExtractor',
      size: { height: 768, width: 768 },
      do_normalize: false,
      sampling_rate: 16000,
      feature_size: 128,
    });
    expect(await readFile(join(outputDir, 'tokenizer.json'), 'utf8')).toBe(await readFile(join(checkpointDir, 'tokenizer.json'), 'utf8'));
    expect(await readJson(join(outputDir, 'tokenizer_config.json'))).toMatchObject({
      image_token: '<image_soft_token>', boi_token: '<start_of_image>', eoa_token: '<end_of_audio>',
    });

    const fileEvents = events.filter((event) => event.stage === 'files');
    expect(fileEvents.at(-1)).toEqual({ stage: 'files', done: 6, total: 6 });
    const validate = events.filter((event) => event.stage === 'validate');
    expect(validate.at(-1)).toEqual({ stage: 'validate', done: validate.length, total: validate.length });
    expect(events.at(-1)).toEqual({ stage: 'finish', done: 1, total: 1 });
    expect(await leftovers('checkpoint', 'converted')).toEqual([]);
  });

  it('writes the optimized graph profile by default, and the compat one when asked', async () => {
    const opTypes = async (folder: string) =>
      new Set((onnx.ModelProto.decode(await readFile(join(folder, 'onnx', 'decoder_model_merged.onnx'))).graph?.node ?? []).map((node) => node.opType));
    const profiles = await mkdtemp(join(tmpdir(), 'gemma3n-convert-profiles-'));
    try {
      const byDefault = join(profiles, 'default-profile');
      const compat = join(profiles, 'compat-profile');
      await convertCheckpoint(checkpointDir, byDefault);
      await convertCheckpoint(checkpointDir, compat, { graphOptions: { graph: 'compat' } });
      expect(await opTypes(byDefault)).toContain('GroupQueryAttention');
      expect(await opTypes(compat)).not.toContain('GroupQueryAttention');
      expect(await opTypes(compat)).toContain('Softmax');
    } finally {
      await rm(profiles, { recursive: true, force: true });
    }
  });

  it('takes the chat template from chat_template.json or tokenizer_config.json when there is no .jinja file', async () => {
    const input = join(root, 'inputs', 'template-json');
    await writeRandomCheckpoint(input, TINY_TEXT_SHAPES['tiny-window-4'], { seed: 5 });
    await rm(join(input, 'chat_template.jinja'));
    await writeFile(join(input, 'chat_template.json'), JSON.stringify({ chat_template: '{{ bos_token }}json' }));
    const fromJson = join(root, 'inputs', 'template-json-out');
    await convertCheckpoint(input, fromJson);
    expect(await readFile(join(fromJson, 'chat_template.jinja'), 'utf8')).toBe('{{ bos_token }}json');
    await rm(join(input, 'chat_template.json'));
    const fromConfig = join(root, 'inputs', 'template-config-out');
    await convertCheckpoint(input, fromConfig);
    const tokenizerConfig = await readJson(join(input, 'tokenizer_config.json'));
    expect(await readFile(join(fromConfig, 'chat_template.jinja'), 'utf8')).toBe(tokenizerConfig.chat_template);
  });

  it('refuses an existing output folder unless overwrite is set', async () => {
    const outputDir = join(root, 'converted');
    await expect(convertCheckpoint(checkpointDir, outputDir)).rejects.toThrow(InputError);
    await expect(convertCheckpoint(checkpointDir, checkpointDir, { overwrite: true })).rejects.toThrow(/other than the input folder/);
  });
});

describe('convertCheckpoint on bad input leaves no output and no temporary folder', () => {
  async function expectCleanFailure(inputDir: string, check: (error: unknown) => void): Promise<void> {
    const outputDir = join(root, 'never');
    const error = await convertCheckpoint(inputDir, outputDir).catch((caught: unknown) => caught);
    check(error);
    expect(await leftovers('checkpoint', 'converted', 'inputs')).toEqual([]);
  }

  it('names a missing tensor with its expected shape', async () => {
    const folder = await brokenCheckpoint('missing-tensor', async (dir) => {
      const { randomCheckpointWeights } = await import('./checkpoint/random-checkpoint-weights');
      const weights = randomCheckpointWeights(TINY_TEXT_SHAPES['tiny-window-4'], { seed: 5 });
      const names = weights.names().filter((name) => name !== 'model.language_model.layers.3.mlp.up_proj.weight');
      await rm(join(dir, 'model.safetensors'));
      await writeSafetensorsCheckpoint(dir, weights, { names });
    });
    await expectCleanFailure(folder, (error) => {
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as ModelFileError).problem).toBe('missing');
      expect((error as Error).message).toContain('missing tensor "model.language_model.layers.3.mlp.up_proj.weight" (expected shape [128, 32])');
    });
  });

  it('names a wrong-shaped tensor with expected and actual shapes', async () => {
    const folder = await brokenCheckpoint('wrong-shape', async (dir) => {
      const config = await readJson(join(dir, 'config.json'));
      config.text_config.intermediate_size[2] = 80; // the checkpoint holds 64-wide FFN weights for layer 2
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    });
    await expectCleanFailure(folder, (error) => {
      expect((error as Error).message).toContain('tensor "model.language_model.layers.2.mlp.gate_proj.weight" has shape [64, 32], expected [80, 32]');
      expect((error as Error).message).toContain('tensor "model.language_model.layers.2.mlp.down_proj.weight" has shape [32, 64], expected [32, 80]');
    });
  });

  it('reports a truncated safetensors file with expected and actual bytes', async () => {
    let fullSize = 0;
    const folder = await brokenCheckpoint('truncated', async (dir) => {
      const path = join(dir, 'model.safetensors');
      fullSize = (await readFile(path)).length;
      await truncate(path, fullSize - 100);
    });
    await expectCleanFailure(folder, (error) => {
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as ModelFileError).problem).toBe('truncated');
      expect((error as ModelFileError).expectedBytes).toBe(fullSize);
      expect((error as ModelFileError).actualBytes).toBe(fullSize - 100);
      expect((error as Error).message).toContain(`expected ${fullSize} bytes, got ${fullSize - 100}`);
      expect((error as Error).message).toMatch(/"model.safetensors" in .*inputs\/truncated is truncated/);
    });
  });

  it('reports a config value out of range by its field path', async () => {
    const folder = await brokenCheckpoint('bad-config', async (dir) => {
      const config = await readJson(join(dir, 'config.json'));
      config.text_config.num_kv_shared_layers = 9; // all 9 layers shared: no producer
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    });
    await expectCleanFailure(folder, (error) => {
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as ConfigError).field).toBe('text_config.num_kv_shared_layers');
    });
  });

  it('names a missing tokenizer file', async () => {
    const folder = await brokenCheckpoint('no-tokenizer', (dir) => rm(join(dir, 'tokenizer.json')));
    await expectCleanFailure(folder, (error) => {
      expect((error as ModelFileError).problem).toBe('missing');
      expect((error as Error).message).toMatch(/"tokenizer.json" does not exist in .*no-tokenizer/);
    });
  });

  it('removes the temporary folder when graph writing fails half way', async () => {
    const outputDir = join(root, 'never');
    const failing = convertCheckpoint(checkpointDir, outputDir, {
      writeGraphs: async (_config, _weights, onnxDir) => {
        await writeFile(join(onnxDir, 'embed_tokens.onnx'), 'half');
        throw new Error('disk full');
      },
    });
    await expect(failing).rejects.toThrow('disk full');
    // Parent folders the run had to create are removed too.
    const nested = convertCheckpoint(checkpointDir, join(root, 'new-parent', 'deeper', 'out'), {
      writeGraphs: async () => {
        throw new Error('disk full');
      },
    });
    await expect(nested).rejects.toThrow('disk full');
    expect(await leftovers('checkpoint', 'converted', 'inputs')).toEqual([]);
  });
});

describe('countExternalData', () => {
  it('counts chunks per ONNX file', () => {
    expect(
      countExternalData(['embed_tokens.onnx', 'embed_tokens.onnx_data', 'decoder_model_merged.onnx', 'decoder_model_merged.onnx_data', 'decoder_model_merged.onnx_data_1', 'decoder_model_merged.onnx_data_2']),
    ).toEqual({ 'embed_tokens.onnx': 1, 'decoder_model_merged.onnx': 3 });
  });
});
