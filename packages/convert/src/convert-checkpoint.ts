import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Gemma3nConfig, InputError, ModelFileError, parseGemma3nConfig } from '@gemma3n/core';
import { defaultGenerationConfig, defaultPreprocessorConfig, defaultProcessorConfig } from './convert-folder-defaults';
import { pathExists, writeFolderAtomically, writeJsonFile } from './convert-output-folder';
import { readTokenizerFiles, type TokenizerFolderFiles } from './convert-tokenizer-files';
import { checkpointTowers, expectedTowerTensors, writeTowerGraphs } from './convert-towers';
import { validateCheckpointTensors } from './convert-validation';
import { INDEX_FILE_NAME, SafetensorsCheckpoint, SINGLE_FILE_NAME } from './safetensors/safetensors-checkpoint';
import type { TensorSource } from './tensor-source';
import { writeTextGraphs, type WriteTextGraphsOptions } from './text/write-text-graphs';
import { writePerLayerOffloadFiles } from './ple/write-per-layer-table';
import type { PerLayerTableEncoding } from './ple/per-layer-table-encoders';

/** A step of the conversion; `done` of `total` units of that stage (tensors, graph nodes…). */
export interface ConvertProgressEvent {
  /**
   * `validate` (tensors checked), `files` (folder files written), then the graph writer's own
   * stages (see writeTextGraphs), then `finish` (the rename into place).
   */
  stage: string;
  done: number;
  total: number;
}

export type GraphWriter = (
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WriteTextGraphsOptions,
) => Promise<{ files: string[] }>;

export interface ConvertCheckpointOptions {
  onProgress?: (event: ConvertProgressEvent) => void;
  /** Replace an existing output folder (only once the new one is complete). */
  overwrite?: boolean;
  /** Graph profile (`optimized` default, or `compat`) and external-data layout (defaults: 2 GiB files, 1 KiB inline threshold). */
  graphOptions?: Pick<WriteTextGraphsOptions, 'maxExternalDataFileBytes' | 'externalDataThresholdBytes' | 'graph'>;
  /** The ONNX graph writer; `writeTextGraphs` unless a caller substitutes another. */
  writeGraphs?: GraphWriter;
  /**
   * Also write the PLE-offload companions (`onnx/embed_tokens_per_layer.safetensors`,
   * `onnx/embed_tokens_text.onnx`), read per token by the runtime instead of holding the table.
   * Default: when the table is at least 64 MiB (every released model, no tiny test model), in
   * `fp32` (the same numbers as embed_tokens.onnx). `false`: never.
   */
  perLayerTable?: false | { encoding?: PerLayerTableEncoding; minimumTableBytes?: number };
}

export interface ConvertCheckpointResult {
  outputDir: string;
  /** Every file written, relative to outputDir (`onnx/…` for the graphs). */
  files: string[];
  /** External data chunk counts by ONNX file name, as written to config.json. */
  externalData: Record<string, number>;
}

/** Files copied unchanged when the checkpoint has them. */
const OPTIONAL_COPIED_FILES = ['special_tokens_map.json'];

/**
 * Converts a Hugging Face Gemma 3n checkpoint folder into the ONNX model folder that
 * transformers.js and this project load (model-folder-contract.md).
 *
 * Everything is checked before anything is written: config.json (parseGemma3nConfig), the
 * safetensors headers (truncation is reported with expected vs actual bytes), every expected
 * tensor's presence and shape, and the tokenizer files. The output is built in a temporary
 * folder next to `outputDir` and renamed at the end, so a failed run leaves nothing behind.
 */
export async function convertCheckpoint(
  inputDir: string,
  outputDir: string,
  options: ConvertCheckpointOptions = {},
): Promise<ConvertCheckpointResult> {
  const report = options.onProgress ?? (() => undefined);
  if (resolve(inputDir) === resolve(outputDir)) {
    throw new InputError({ field: 'outputDir', value: outputDir, expected: 'a folder other than the input folder' });
  }
  if (!options.overwrite && (await pathExists(outputDir))) {
    throw new InputError({
      field: 'outputDir',
      value: outputDir,
      expected: 'a path that does not exist yet (pass overwrite: true to replace it)',
    });
  }

  const rawConfig = await readJson(inputDir, 'config.json', true);
  const config = parseGemma3nConfig(rawConfig, join(inputDir, 'config.json'));
  const checkpoint = await SafetensorsCheckpoint.open(inputDir);
  const checkpointName = checkpoint.files.length === 1 ? SINGLE_FILE_NAME : INDEX_FILE_NAME;
  const towers = checkpointTowers(config, checkpoint);
  validateCheckpointTensors(
    config,
    checkpoint,
    join(inputDir, checkpointName),
    (done, total) => report({ stage: 'validate', done, total }),
    expectedTowerTensors(config, towers),
  );
  const tokenizer = await readTokenizerFiles(inputDir, config);
  const generationConfig = (await readJson(inputDir, 'generation_config.json', false)) ?? defaultGenerationConfig(config);
  const processorConfig = (await readJson(inputDir, 'processor_config.json', false)) ?? defaultProcessorConfig(config);
  const preprocessorConfig = {
    ...defaultPreprocessorConfig(config),
    ...((await readJson(inputDir, 'preprocessor_config.json', false)) ?? {}),
  };
  const writeGraphs = options.writeGraphs ?? writeTextGraphs;

  return writeFolderAtomically(outputDir, { overwrite: options.overwrite }, async (folder) => {
    const files: string[] = [];
    const optionalFiles: string[] = [];
    for (const name of OPTIONAL_COPIED_FILES) {
      if (await pathExists(join(inputDir, name))) optionalFiles.push(name);
    }
    const filesTotal = 5 + (tokenizer.chatTemplate === undefined ? 0 : 1) + optionalFiles.length;
    const wrote = (name: string) => {
      files.push(name);
      report({ stage: 'files', done: files.length, total: filesTotal });
    };
    await writeTokenizer(folder, tokenizer, wrote);
    await writeJsonFile(join(folder, 'generation_config.json'), generationConfig);
    wrote('generation_config.json');
    await writeJsonFile(join(folder, 'processor_config.json'), processorConfig);
    wrote('processor_config.json');
    await writeJsonFile(join(folder, 'preprocessor_config.json'), preprocessorConfig);
    wrote('preprocessor_config.json');
    for (const name of optionalFiles) {
      await copyFile(join(inputDir, name), join(folder, name));
      wrote(name);
    }

    const onnxDir = join(folder, 'onnx');
    await mkdir(onnxDir);
    const graphs = await writeGraphs(config, checkpoint, onnxDir, {
      ...options.graphOptions,
      // The optimized profile (fused attention, rotary and norm ops) is the default; `compat`
      // writes plain ONNX ops like the published export.
      graph: options.graphOptions?.graph ?? 'optimized',
      onProgress: (event) => report(event),
    });
    files.push(...graphs.files.map((file) => `onnx/${file}`));
    const tableBytes = config.text.vocabSizePerLayerInput * config.text.numHiddenLayers * config.text.hiddenSizePerLayerInput * 4;
    if (options.perLayerTable !== false && tableBytes >= (options.perLayerTable?.minimumTableBytes ?? 64 * 1024 * 1024)) {
      const offloaded = await writePerLayerOffloadFiles(config, checkpoint, onnxDir, {
        encoding: options.perLayerTable?.encoding,
        maxExternalDataFileBytes: options.graphOptions?.maxExternalDataFileBytes,
        onProgress: (event) => report(event),
      });
      files.push(...offloaded.files.map((file) => `onnx/${file}`));
    }
    const towerFiles = await writeTowerGraphs(config, checkpoint, onnxDir, towers, {
      ...options.graphOptions,
      audioSeqLength: audioSeqLengthOf(processorConfig, config),
      onProgress: (event) => report(event),
    });
    files.push(...towerFiles.map((file) => `onnx/${file}`));

    const externalData = countExternalData([...graphs.files, ...towerFiles]);
    await writeJsonFile(join(folder, 'config.json'), outputConfig(rawConfig, config, externalData));
    files.push('config.json');
    report({ stage: 'finish', done: 1, total: 1 });
    return { outputDir, files, externalData };
  });
}

/**
 * The input config.json plus the fields transformers.js reads (model-folder-contract.md):
 * explicit text_config sizes and token ids even where the input relied on defaults, and
 * `transformers.js_config` announcing fp32 files and their external data chunks.
 */
export function outputConfig(
  rawConfig: Record<string, unknown>,
  config: Gemma3nConfig,
  externalData: Record<string, number>,
): Record<string, unknown> {
  const output = structuredClone(rawConfig);
  const textConfig = { ...((rawConfig.text_config as Record<string, unknown> | undefined) ?? {}) };
  textConfig.model_type = 'gemma3n_text';
  textConfig.num_hidden_layers = config.text.numHiddenLayers;
  textConfig.num_key_value_heads = config.text.numKeyValueHeads;
  textConfig.head_dim = config.text.headDim;
  textConfig.vocab_size ??= config.text.vocabSize;
  output.text_config = textConfig;
  output.model_type = 'gemma3n';
  output.architectures = config.architectures;
  output.image_token_id = config.imageTokenId;
  output.audio_token_id = config.audioTokenId;

  const previous = rawConfig['transformers.js_config'];
  const jsConfig: Record<string, unknown> =
    previous !== null && typeof previous === 'object' && !Array.isArray(previous) ? { ...previous } : {};
  jsConfig.dtype = 'fp32';
  if (Object.keys(externalData).length > 0) jsConfig.use_external_data_format = externalData;
  else delete jsConfig.use_external_data_format;
  output['transformers.js_config'] = jsConfig;
  return output;
}

/**
 * The audio encoder must give exactly as many rows as the processor expands each clip to
 * (transformers.js does not pad), so the graph is built for processor_config's audio_seq_length.
 */
function audioSeqLengthOf(processorConfig: Record<string, unknown>, config: Gemma3nConfig): number {
  const value = processorConfig.audio_seq_length;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : config.audioSoftTokensPerImage;
}

/** `x.onnx` with `x.onnx_data`, `x.onnx_data_1`, … → `{ "x.onnx": chunkCount }`. */
export function countExternalData(files: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of files) {
    const match = /^(?:.*\/)?([^/]+\.onnx)_data(?:_(\d+))?$/.exec(file);
    if (match === null) continue;
    const model = match[1] as string;
    counts[model] = (counts[model] ?? 0) + 1;
  }
  return counts;
}

async function writeTokenizer(folder: string, tokenizer: TokenizerFolderFiles, wrote: (name: string) => void): Promise<void> {
  await writeFile(join(folder, 'tokenizer.json'), tokenizer.tokenizerJsonText);
  wrote('tokenizer.json');
  await writeJsonFile(join(folder, 'tokenizer_config.json'), tokenizer.tokenizerConfig);
  wrote('tokenizer_config.json');
  if (tokenizer.chatTemplate !== undefined) {
    await writeFile(join(folder, 'chat_template.jinja'), tokenizer.chatTemplate);
    wrote('chat_template.jinja');
  }
}

/** Reads a JSON file of the input folder; `undefined` for an absent optional file. */
export async function readJson(
  folder: string,
  name: string,
  required: true,
): Promise<Record<string, unknown>>;
export async function readJson(
  folder: string,
  name: string,
  required: false,
): Promise<Record<string, unknown> | undefined>;
export async function readJson(
  folder: string,
  name: string,
  required: boolean,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, name), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new ModelFileError({ path: name, location: folder, problem: 'missing', cause });
    }
    throw new ModelFileError({ path: name, location: folder, problem: 'unreadable', cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelFileError({ path: name, location: folder, problem: 'invalid-json', cause });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelFileError({
      path: name,
      location: folder,
      problem: 'invalid-json',
      message: `Model file "${name}" in ${folder} is not a JSON object`,
    });
  }
  return json as Record<string, unknown>;
}
