import { ConfigError, type Gemma3nConfig } from '@gemma3n/core';
import type { OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import type { TensorSource } from '../tensor-source';
import { AudioGraphContext, type AudioGraphProgress, dimensionOf, rmsNorm } from './audio-graph-context';
import { audioGraphDimensions, expectedAudioTowerTensors, requireAudio } from './audio-tower-tensors';
import { buildConformerBlock, buildConformerSharedInputs } from './conformer-graph';
import { buildSubsampleConvProjection, subsampledMask } from './subsample-graph';

export type { AudioGraphProgress } from './audio-graph-context';

export const AUDIO_ENCODER_FILE = 'audio_encoder.onnx';
const EMBED_AUDIO_PREFIX = 'model.embed_audio.';
/** Tensors read besides the tower: embed_audio's table, two norms and projection. */
const EMBEDDER_TENSOR_COUNT = 4;

export interface WriteAudioEncoderGraphOptions {
  /** Rows of `audio_features` (default `config.audio_soft_tokens_per_image`, 188). */
  audioSeqLength?: number;
  onProgress?: (event: AudioGraphProgress) => void;
  /** Size limit of one external data file (default 2 GiB). */
  maxExternalDataFileBytes?: number;
  /** Initializers of at least this many bytes go to external data (default 1 KiB). */
  externalDataThresholdBytes?: number;
}

/**
 * The audio session of the model folder (model-folder contract):
 * `input_features` float `[batch_size, frames, input_feat_size]` log-mel and
 * `input_features_mask` bool `[batch_size, frames]` (true = valid frame) →
 * `audio_features` float `[batch_size, audioSeqLength, text hidden]`.
 *
 * The tower (§4.2) and `embed_audio`'s soft path (§4.3), then what HF's `Gemma3nModel.forward`
 * does: invalid encoder tokens and every row after the last token get the hard embedding of id
 * `text vocab_size − 1`. A clip giving more than audioSeqLength tokens (over 30 s, which the
 * feature extractor never produces) keeps its first audioSeqLength tokens, where HF raises;
 * an ORT shape error would be the only alternative inside a graph.
 *
 * Batches follow HF's batch semantics; encode one clip at a time for results that do not
 * depend on the other clips (§4.2 "Batching").
 */
export async function buildAudioEncoderGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  graph: OnnxGraphBuilder,
  options: Pick<WriteAudioEncoderGraphOptions, 'audioSeqLength' | 'onProgress'> = {},
): Promise<void> {
  const audio = requireAudio(config);
  const dimensions = audioGraphDimensions(config);
  const audioSeqLength = options.audioSeqLength ?? config.audioSoftTokensPerImage;
  const paddingRow = config.text.vocabSize - 1 - audio.vocabOffset;
  if (paddingRow < 0 || paddingRow >= audio.vocabSize) {
    throw new ConfigError({
      field: 'audio_config.vocab_offset',
      value: audio.vocabOffset,
      expected: `an audio id range [vocab_offset, vocab_offset + vocab_size) that holds text vocab_size − 1 (${config.text.vocabSize - 1}), the id HF pads audio features with`,
    });
  }
  const totalTensors = expectedAudioTowerTensors(config).length + EMBEDDER_TENSOR_COUNT;
  const context = new AudioGraphContext(graph, weights, totalTensors, options.onProgress);

  const features = graph.input('input_features', 'float32', ['batch_size', 'frames', dimensions.inputFeatureSize]);
  const mask = graph.input('input_features_mask', 'bool', ['batch_size', 'frames']);

  let hidden = await buildSubsampleConvProjection(context, dimensions, features);
  const tower = graph.scope('/audio_tower');
  const validMask = subsampledMask(tower.scope('mask'), dimensions, mask, hidden);
  const shared = buildConformerSharedInputs(tower.scope('attention_inputs'), dimensions, validMask);
  for (let layer = 0; layer < dimensions.layerCount; layer++) {
    hidden = await buildConformerBlock(context, dimensions, layer, hidden, shared);
  }
  // Every reduction_factor-th frame from frame 0, and the same frames of the mask. HF also
  // zeroes invalid tokens here; the Where below replaces them anyway.
  const reduce = tower.scope('reduction');
  const stepArguments = [reduce.int64([0]), reduce.int64([Number.MAX_SAFE_INTEGER]), reduce.int64([1]), reduce.int64([dimensions.reductionFactor])];
  const reduced = reduce.op('Slice', [hidden, ...stepArguments], { name: 'Hidden' });
  const reducedMask = reduce.op('Slice', [validMask, ...stepArguments], { name: 'Mask' });

  const embed = graph.scope('/embed_audio');
  const textHidden = config.text.hiddenSize;
  const projection = await context.transposedWeight(embed, 'embedding_projection/weight', `${EMBED_AUDIO_PREFIX}embedding_projection.weight`, dimensions.hiddenSize, textHidden);
  const softWeight = await context.tensor(embed, 'soft_embedding_norm/weight', `${EMBED_AUDIO_PREFIX}soft_embedding_norm.weight`, [dimensions.hiddenSize]);
  const softNormed = rmsNorm(embed, 'soft_embedding_norm', reduced, softWeight, audio.rmsNormEps);
  const soft = rmsNorm(embed, 'soft/embedding_post_projection_norm', embed.op('MatMul', [softNormed, projection], { name: 'soft/embedding_projection' }), null, audio.rmsNormEps);

  const table = await context.read(`${EMBED_AUDIO_PREFIX}embedding.weight`, [audio.vocabSize, dimensions.hiddenSize]);
  const row = table.slice(paddingRow * dimensions.hiddenSize, (paddingRow + 1) * dimensions.hiddenSize);
  const paddingInput = await embed.initializer('padding_token_row', 'float32', [1, 1, dimensions.hiddenSize], row);
  const hardWeight = await context.tensor(embed, 'hard_embedding_norm/weight', `${EMBED_AUDIO_PREFIX}hard_embedding_norm.weight`, [dimensions.hiddenSize]);
  const hardNormed = rmsNorm(embed, 'hard_embedding_norm', paddingInput, hardWeight, audio.rmsNormEps);
  const padding = rmsNorm(embed, 'hard/embedding_post_projection_norm', embed.op('MatMul', [hardNormed, projection], { name: 'hard/embedding_projection' }), null, audio.rmsNormEps);

  const pad = graph.scope('/audio_features');
  const tokenMask = pad.op('Unsqueeze', [reducedMask, pad.int64([-1])], { name: 'TokenMask' });
  const merged = pad.op('Where', [tokenMask, soft, padding], { name: 'ReplaceInvalid' });
  // Append audioSeqLength padding rows, keep the first audioSeqLength rows: pads and truncates.
  const batch = pad.op('Unsqueeze', [dimensionOf(pad, 'Batch', features, 0), pad.int64([0])], { name: 'BatchSize' });
  const paddingShape = pad.op('Concat', [batch, pad.int64([audioSeqLength, textHidden])], { name: 'PaddingShape', attributes: { axis: 0 } });
  const paddingRows = pad.op('Expand', [padding, paddingShape], { name: 'PaddingRows' });
  const padded = pad.op('Concat', [merged, paddingRows], { name: 'Append', attributes: { axis: 1 } });
  const output = pad.op('Slice', [padded, pad.int64([0]), pad.int64([audioSeqLength]), pad.int64([1])], { name: 'Keep' });
  graph.output(output, 'audio_features', 'float32', ['batch_size', audioSeqLength, textHidden]);
}

/**
 * Writes `audio_encoder.onnx` (fp32, plain ai.onnx opset-21 ops) and its external data into
 * `onnxDir`; returns the written files relative to `onnxDir`.
 */
export async function writeAudioEncoderGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  onnxDir: string,
  options: WriteAudioEncoderGraphOptions = {},
): Promise<{ files: string[] }> {
  const files = await writeOnnxModel(
    {
      directory: onnxDir,
      fileName: AUDIO_ENCODER_FILE,
      graphName: 'audio_encoder',
      maxExternalDataFileBytes: options.maxExternalDataFileBytes,
      externalDataThresholdBytes: options.externalDataThresholdBytes,
    },
    (graph) => buildAudioEncoderGraph(config, weights, graph, options),
  );
  return { files };
}
