import type { Gemma3nConfig } from '@gemma3n/core';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import type { TensorSource } from '../tensor-source';
import type { TextGraphBuildOptions } from '../text/text-graph-context';
import { buildFusedDecoderGraph, type FusedDecoderOptions } from './fused-decoder-graph';
import { buildFusedEmbedTokensGraph } from './fused-embed-tokens-graph';
import { MICROSOFT_DOMAIN } from './fused-norms';
import { opsetsWithEncoding } from '../text/weight-encoding';

export interface WriteOptimizedTextGraphsOptions extends TextGraphBuildOptions, Pick<FusedDecoderOptions, 'consumerAttention' | 'lmHead'> {
  maxExternalDataFileBytes?: number;
  externalDataThresholdBytes?: number;
}

/**
 * Writes `embed_tokens.onnx` and `decoder_model_merged.onnx` of the optimized profile into
 * `onnxDir` (same contract and file layout as the compat profile; opset 21 + com.microsoft v1).
 * Returns the written files relative to `onnxDir`.
 */
export async function writeOptimizedTextGraphs(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WriteOptimizedTextGraphsOptions = {},
  fileNames: { embedTokens: string; decoder: string } = { embedTokens: 'embed_tokens.onnx', decoder: 'decoder_model_merged.onnx' },
): Promise<{ files: string[] }> {
  const common = {
    directory: onnxDir,
    maxExternalDataFileBytes: options.maxExternalDataFileBytes,
    externalDataThresholdBytes: options.externalDataThresholdBytes,
  };
  const embedOpsets = opsetsWithEncoding([], options.weightEncoding);
  const embedFiles = await writeOnnxModel({ ...common, fileName: fileNames.embedTokens, graphName: 'embed_tokens', extraOpsets: embedOpsets }, (graph) =>
    buildFusedEmbedTokensGraph(config, weights, graph, options),
  );
  const decoderFiles = await writeOnnxModel(
    { ...common, fileName: fileNames.decoder, graphName: 'decoder_model_merged', extraOpsets: opsetsWithEncoding([{ domain: MICROSOFT_DOMAIN, version: 1 }], options.weightEncoding) },
    (graph) => buildFusedDecoderGraph(config, weights, graph, options),
  );
  return { files: [...embedFiles, ...decoderFiles] };
}
