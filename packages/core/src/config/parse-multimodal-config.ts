import type { Gemma3nAudioConfig, Gemma3nVisionConfig } from './gemma3n-config-types';
import type { ConfigReader } from './config-reader';

/** Defaults of `vision_config` (MobileNetV5-300M, architecture doc §3). */
export const gemma3nVisionDefaults = {
  hiddenSize: 2048,
  vocabSize: 128,
  vocabOffset: 262_144,
  rmsNormEps: 1e-6,
} as const;

/** Defaults of `audio_config` (USM conformer, architecture doc §4). */
export const gemma3nAudioDefaults = {
  hiddenSize: 1536,
  vocabSize: 128,
  vocabOffset: 262_272,
  rmsNormEps: 1e-6,
  inputFeatSize: 128,
  confNumAttentionHeads: 8,
  confNumHiddenLayers: 12,
  confAttentionChunkSize: 12,
  confAttentionContextLeft: 13,
  confAttentionContextRight: 0,
  confAttentionLogitCap: 50,
  confConvKernelSize: 5,
  confReductionFactor: 4,
  sscpConvChannelSize: [128, 32],
  sscpConvKernelSize: [
    [3, 3],
    [3, 3],
  ],
  sscpConvStrideSize: [
    [2, 2],
    [2, 2],
  ],
  sscpConvGroupNormEps: 1e-3,
} as const;

/**
 * The hard-token range `[vocabOffset, vocabOffset + vocabSize)` of an embedder must sit inside
 * the text vocabulary, above the per-layer-input table (ids there map to PLE row 0).
 */
function checkVocabRange(
  reader: ConfigReader,
  vocabOffset: number,
  vocabSize: number,
  text: { vocabSize: number; vocabSizePerLayerInput: number },
): void {
  if (vocabOffset < text.vocabSizePerLayerInput) {
    reader.failKey('vocab_offset',
      vocabOffset,
      `at least text_config.vocab_size_per_layer_input (${text.vocabSizePerLayerInput})`,
    );
  }
  if (vocabOffset + vocabSize > text.vocabSize) {
    reader.failKey('vocab_offset',
      vocabOffset,
      `vocab_offset + vocab_size (${vocabOffset} + ${vocabSize}) at most text_config.vocab_size (${text.vocabSize})`,
    );
  }
}

export function parseVisionConfig(
  reader: ConfigReader,
  text: { vocabSize: number; vocabSizePerLayerInput: number },
): Gemma3nVisionConfig {
  const defaults = gemma3nVisionDefaults;
  if (reader.has('model_type') && reader.raw('model_type') !== 'gemma3n_vision') {
    reader.failKey('model_type', reader.raw('model_type'), '"gemma3n_vision"');
  }
  const vocabSize = reader.integer('vocab_size', defaults.vocabSize);
  const vocabOffset = reader.integer('vocab_offset', defaults.vocabOffset, 0);
  checkVocabRange(reader, vocabOffset, vocabSize, text);
  return {
    hiddenSize: reader.integer('hidden_size', defaults.hiddenSize),
    vocabSize,
    vocabOffset,
    rmsNormEps: reader.number('rms_norm_eps', defaults.rmsNormEps, { greaterThan: 0, lessThan: 1 }),
    raw: reader.object,
  };
}

export function parseAudioConfig(
  reader: ConfigReader,
  text: { vocabSize: number; vocabSizePerLayerInput: number },
): Gemma3nAudioConfig {
  const defaults = gemma3nAudioDefaults;
  if (reader.has('model_type') && reader.raw('model_type') !== 'gemma3n_audio') {
    reader.failKey('model_type', reader.raw('model_type'), '"gemma3n_audio"');
  }
  const vocabSize = reader.integer('vocab_size', defaults.vocabSize);
  const vocabOffset = reader.integer('vocab_offset', defaults.vocabOffset, 0);
  checkVocabRange(reader, vocabOffset, vocabSize, text);

  const hiddenSize = reader.integer('hidden_size', defaults.hiddenSize);
  const confNumAttentionHeads = reader.integer('conf_num_attention_heads', defaults.confNumAttentionHeads);
  // head_dim = hidden / heads is fixed by the architecture, not a config field.
  if (hiddenSize % confNumAttentionHeads !== 0) {
    reader.failKey('hidden_size', hiddenSize, `a multiple of conf_num_attention_heads (${confNumAttentionHeads})`);
  }

  const sscpConvChannelSize = reader.has('sscp_conv_channel_size')
    ? reader.list('sscp_conv_channel_size', (field, value) => reader.checkInteger(field, value))
    : [...defaults.sscpConvChannelSize];
  const readPairs = (key: 'sscp_conv_kernel_size' | 'sscp_conv_stride_size', fallback: readonly (readonly number[])[]) =>
    reader.has(key)
      ? reader.list(key, (field, value) => {
          if (!Array.isArray(value) || value.length !== 2) reader.fail(field, value, 'a [time, frequency] pair');
          return value.map((size, index) => reader.checkInteger(`${field}[${index}]`, size));
        })
      : fallback.map((pair) => [...pair]);
  const sscpConvKernelSize = readPairs('sscp_conv_kernel_size', defaults.sscpConvKernelSize);
  const sscpConvStrideSize = readPairs('sscp_conv_stride_size', defaults.sscpConvStrideSize);
  // One channel count, kernel and stride per subsampling convolution.
  for (const [key, list] of [
    ['sscp_conv_kernel_size', sscpConvKernelSize],
    ['sscp_conv_stride_size', sscpConvStrideSize],
  ] as const) {
    if (list.length !== sscpConvChannelSize.length) {
      reader.failKey(
        key,
        list,
        `${sscpConvChannelSize.length} entries, one per sscp_conv_channel_size entry`,
      );
    }
  }

  return {
    hiddenSize,
    vocabSize,
    vocabOffset,
    rmsNormEps: reader.number('rms_norm_eps', defaults.rmsNormEps, { greaterThan: 0, lessThan: 1 }),
    inputFeatSize: reader.integer('input_feat_size', defaults.inputFeatSize),
    confNumAttentionHeads,
    confNumHiddenLayers: reader.integer('conf_num_hidden_layers', defaults.confNumHiddenLayers),
    confAttentionChunkSize: reader.integer('conf_attention_chunk_size', defaults.confAttentionChunkSize),
    // max_past = context_left − 1, so the left context includes the current frame.
    confAttentionContextLeft: reader.integer('conf_attention_context_left', defaults.confAttentionContextLeft),
    confAttentionContextRight: reader.integer('conf_attention_context_right', defaults.confAttentionContextRight, 0),
    confAttentionLogitCap: reader.number('conf_attention_logit_cap', defaults.confAttentionLogitCap, { greaterThan: 0 }),
    confConvKernelSize: reader.integer('conf_conv_kernel_size', defaults.confConvKernelSize),
    confReductionFactor: reader.integer('conf_reduction_factor', defaults.confReductionFactor),
    sscpConvChannelSize,
    sscpConvKernelSize,
    sscpConvStrideSize,
    sscpConvGroupNormEps: reader.number('sscp_conv_group_norm_eps', defaults.sscpConvGroupNormEps, {
      greaterThan: 0,
      lessThan: 1,
    }),
    raw: reader.object,
  };
}
