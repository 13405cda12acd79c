import type { Gemma3nConfig } from '@gemma3n/core';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import type { TensorSource } from '../tensor-source';
import { buildDecoderGraph } from './decoder-graph';
import { buildEmbedTokensGraph } from './embed-tokens-graph';
import type { TextGraphProgress } from './text-graph-context';
import { opsetsWithEncoding, type WeightEncoding } from './weight-encoding';
import { writeOptimizedTextGraphs, type ConsumerAttention, type LmHeadLayout } from '../text-optimized/index';

export type { TextGraphProgress } from './text-graph-context';

export const EMBED_TOKENS_FILE = 'embed_tokens.onnx';
export const DECODER_FILE = 'decoder_model_merged.onnx';

export interface WriteTextGraphsOptions {
  onProgress?: (event: TextGraphProgress) => void;
  /** Size limit of one external data file (default 2 GiB); tests use a tiny one. */
  maxExternalDataFileBytes?: number;
  /** Initializers of at least this many bytes go to external data (default 1 KiB). */
  externalDataThresholdBytes?: number;
  /**
   * With a source that has `readRows`, Linear weights of at least this many bytes are
   * transposed from row blocks instead of read whole (default 256 MiB: the tied lm_head).
   */
  rowStreamingMinimumBytes?: number;
  /** Bytes per `readRows` call when streaming (default 64 MiB). */
  rowBlockBytes?: number;
  /**
   * `compat` (default here): plain ai.onnx ops, like the published export. `optimized`:
   * GroupQueryAttention, RotaryEmbedding, fused RMSNorms, precomputed hard-token rows
   * (`src/text-optimized/`), same contract.
   */
  graph?: 'compat' | 'optimized';
  /** Optimized profile only: how KV-sharing consumers attend (default `matmul`). */
  consumerAttention?: ConsumerAttention;
  /** Optimized profile only: lm_head layout (default `matmul-transposed-copy`). */
  lmHead?: LmHeadLayout;
  /** Weights stored in another form than float32 as they are written (weight-encoding.ts). */
  weightEncoding?: WeightEncoding;
  /**
   * File names inside `onnxDir` (default `embed_tokens.onnx`, `decoder_model_merged.onnx`); a
   * quantizing weight encoding writes e.g. `decoder_model_merged_q4.onnx`.
   */
  fileNames?: { embedTokens: string; decoder: string };
}

/**
 * Writes the two text sessions of the model folder into `onnxDir`: `embed_tokens.onnx` and
 * `decoder_model_merged.onnx`, fp32, plain ai.onnx opset-21 ops (the "compat" profile), each
 * with its weights in `<file>_data`, `<file>_data_1`, … beside it. Weights are read one tensor
 * at a time and streamed to disk. Returns the written files relative to `onnxDir`.
 */
export async function writeTextGraphs(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WriteTextGraphsOptions = {},
): Promise<{ files: string[] }> {
  const fileNames = options.fileNames ?? { embedTokens: EMBED_TOKENS_FILE, decoder: DECODER_FILE };
  if (options.graph === 'optimized') return writeOptimizedTextGraphs(config, weights, onnxDir, options, fileNames);
  const common = {
    directory: onnxDir,
    maxExternalDataFileBytes: options.maxExternalDataFileBytes,
    externalDataThresholdBytes: options.externalDataThresholdBytes,
    extraOpsets: opsetsWithEncoding([], options.weightEncoding),
  };
  const embedFiles = await writeOnnxModel({ ...common, fileName: fileNames.embedTokens, graphName: 'embed_tokens' }, (graph) =>
    buildEmbedTokensGraph(config, weights, graph, options),
  );
  const decoderFiles = await writeOnnxModel({ ...common, fileName: fileNames.decoder, graphName: 'decoder_model_merged' }, (graph) =>
    buildDecoderGraph(config, weights, graph, options),
  );
  return { files: [...embedFiles, ...decoderFiles] };
}
