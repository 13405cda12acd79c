import { join } from 'node:path';
import type { Gemma3nConfig, PerLayerTableLayout } from '@gemma3n/core';
import type { TensorSource } from '../tensor-source';
import { readRowBlocks, tensorRowReader } from '../text/row-range-source';
import { textWeightNames } from '../text/text-weight-names';
import { encodePerLayerRows, layoutForEncoding, type PerLayerTableEncoding } from './per-layer-table-encoders';
import { writePerLayerTableFile } from './per-layer-table-file-writer';
import { OnnxInitializerReader } from './onnx-initializer-reader';
import { writeTextEmbedGraph } from './write-text-embed-graph';

/** `onnx/embed_tokens{suffix}.onnx` → its companion `embed_tokens_per_layer{suffix}.safetensors`. */
export function perLayerTableFileName(embedFileName: string): string {
  return companionName(embedFileName, 'embed_tokens_per_layer', '.safetensors');
}

/** `embed_tokens{suffix}.onnx` → `embed_tokens_text{suffix}.onnx` (the graph without the table). */
export function textEmbedFileName(embedFileName: string): string {
  return companionName(embedFileName, 'embed_tokens_text', '.onnx');
}

function companionName(embedFileName: string, stem: string, extension: string): string {
  const slash = embedFileName.lastIndexOf('/');
  const folder = embedFileName.slice(0, slash + 1);
  const match = /^embed_tokens(.*)\.onnx$/.exec(embedFileName.slice(slash + 1));
  if (match === null) throw new RangeError(`"${embedFileName}" is not named embed_tokens{suffix}.onnx`);
  return `${folder}${stem}${match[1]}${extension}`;
}

export interface WritePerLayerTableOptions {
  /** Default `fp32`: the same values as the folder's fp32 embed_tokens.onnx, so offloading changes nothing. */
  encoding?: PerLayerTableEncoding;
  /** float32 bytes per `readRows` call (default 64 MiB). */
  rowBlockBytes?: number;
  onProgress?: (event: { stage: 'per_layer_table'; done: number; total: number }) => void;
}

/**
 * Writes `onnxDir/embed_tokens_per_layer.safetensors` from a checkpoint's
 * `embed_tokens_per_layer.weight` [vocab_size_per_layer_input, L·P], streamed a block of rows
 * at a time (`readRows`), with output scale sqrt(P) as float32 — the constant the embed graph
 * multiplies by — so the reader returns what `per_layer_inputs` would.
 */
export async function writePerLayerTableFromCheckpoint(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WritePerLayerTableOptions = {},
): Promise<{ file: string; layout: PerLayerTableLayout; fileBytes: number }> {
  const text = config.text;
  const name = textWeightNames(weights).embedTokensPerLayer;
  const rows = text.vocabSizePerLayerInput;
  const width = text.numHiddenLayers * text.hiddenSizePerLayerInput;
  if (!weights.has(name)) throw new Error(`checkpoint tensor ${name} is missing (expected shape [${rows}, ${width}])`);
  const shape = weights.info(name).shape;
  if (shape.length !== 2 || shape[0] !== rows || shape[1] !== width) {
    throw new Error(`checkpoint tensor ${name} has shape [${shape.join(', ')}], but the config implies [${rows}, ${width}]`);
  }
  const layout = layoutForEncoding(options.encoding ?? 'fp32', {
    rows,
    numLayers: text.numHiddenLayers,
    layerWidth: text.hiddenSizePerLayerInput,
    outputScale: Math.sqrt(text.hiddenSizePerLayerInput),
    source: `checkpoint tensor ${name}`,
  });
  const file = perLayerTableFileName('embed_tokens.onnx');
  const { fileBytes } = await writePerLayerTableFile(join(onnxDir, file), layout, async (writer) => {
    for await (const { first, count, values } of readRowBlocks(tensorRowReader(weights, name, width), rows, width, options.rowBlockBytes)) {
      await writer.writeRecords(encodePerLayerRows(layout, values, count));
      options.onProgress?.({ stage: 'per_layer_table', done: first + count, total: rows });
    }
  });
  return { file, layout, fileBytes };
}

/**
 * The converter's step after writeTextGraphs: the per-layer table from the checkpoint (rows
 * streamed with `readRows`) and `embed_tokens_text.onnx`, cut from the `embed_tokens.onnx`
 * just written. `embed_tokens.onnx` stays, so the folder still loads in transformers.js.
 * Returns the written files relative to `onnxDir`.
 */
export async function writePerLayerOffloadFiles(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WritePerLayerTableOptions & { maxExternalDataFileBytes?: number } = {},
): Promise<{ files: string[]; layout: PerLayerTableLayout }> {
  const table = await writePerLayerTableFromCheckpoint(config, weights, onnxDir, options);
  const reader = await OnnxInitializerReader.open(join(onnxDir, 'embed_tokens.onnx'));
  try {
    const text = await writeTextEmbedGraph(reader, join(onnxDir, textEmbedFileName('embed_tokens.onnx')), {
      maxExternalDataFileBytes: options.maxExternalDataFileBytes,
    });
    return { files: [table.file, ...text.files], layout: table.layout };
  } finally {
    await reader.close();
  }
}
