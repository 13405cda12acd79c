import type { Gemma3nConfig } from '@gemma3n/core';

/** One tensor a Hugging Face Gemma 3n checkpoint must hold, with its PyTorch shape. */
export interface ExpectedTensor {
  name: string;
  shape: number[];
}

export const TEXT_PREFIX = 'model.language_model.';
export const VISION_EMBEDDER_PREFIX = 'model.embed_vision.';
export const AUDIO_EMBEDDER_PREFIX = 'model.embed_audio.';

/**
 * The names and shapes (architecture doc §6) of the text decoder and the two multimodal
 * embedders, as the official converter writes them. PyTorch Linear weights are [out, in].
 *
 * Consumer layers (those that reuse another layer's KV cache) still list k_proj, v_proj and
 * k_norm: released checkpoints carry them, and a converter that rejected them would reject
 * real models. `lm_head.weight` is not listed because it is tied to `embed_tokens` and absent
 * from released checkpoints. The vision and audio towers are not listed yet.
 */
export function expectedCheckpointTensors(config: Gemma3nConfig): ExpectedTensor[] {
  const text = config.text;
  const hidden = text.hiddenSize;
  const perLayer = text.hiddenSizePerLayerInput;
  const layers = text.numHiddenLayers;
  const streams = text.altupNumInputs;
  const queryWidth = text.numAttentionHeads * text.headDim;
  const keyValueWidth = text.numKeyValueHeads * text.headDim;

  const tensors: ExpectedTensor[] = [];
  const add = (name: string, shape: number[]): void => {
    tensors.push({ name, shape });
  };

  add(`${TEXT_PREFIX}embed_tokens.weight`, [text.vocabSize, hidden]);
  add(`${TEXT_PREFIX}embed_tokens_per_layer.weight`, [text.vocabSizePerLayerInput, layers * perLayer]);
  add(`${TEXT_PREFIX}per_layer_model_projection.weight`, [layers * perLayer, hidden]);
  add(`${TEXT_PREFIX}per_layer_projection_norm.weight`, [perLayer]);
  // AltUp keeps `altup_num_inputs` streams; stream 0 is the embedding itself, so only the
  // other streams have a projection in and out.
  for (let stream = 0; stream < streams - 1; stream++) {
    add(`${TEXT_PREFIX}altup_projections.${stream}.weight`, [hidden, hidden]);
  }
  for (let stream = 0; stream < streams - 1; stream++) {
    add(`${TEXT_PREFIX}altup_unembed_projections.${stream}.weight`, [hidden, hidden]);
  }
  add(`${TEXT_PREFIX}norm.weight`, [hidden]);

  for (let layer = 0; layer < layers; layer++) {
    const prefix = `${TEXT_PREFIX}layers.${layer}.`;
    const intermediate = text.intermediateSize[layer];
    if (intermediate === undefined) {
      throw new RangeError(`intermediateSize has no entry for layer ${layer} of ${layers}`);
    }
    add(`${prefix}self_attn.q_proj.weight`, [queryWidth, hidden]);
    add(`${prefix}self_attn.k_proj.weight`, [keyValueWidth, hidden]);
    add(`${prefix}self_attn.v_proj.weight`, [keyValueWidth, hidden]);
    add(`${prefix}self_attn.o_proj.weight`, [hidden, queryWidth]);
    add(`${prefix}self_attn.q_norm.weight`, [text.headDim]);
    add(`${prefix}self_attn.k_norm.weight`, [text.headDim]);
    add(`${prefix}mlp.gate_proj.weight`, [intermediate, hidden]);
    add(`${prefix}mlp.up_proj.weight`, [intermediate, hidden]);
    add(`${prefix}mlp.down_proj.weight`, [hidden, intermediate]);
    add(`${prefix}input_layernorm.weight`, [hidden]);
    add(`${prefix}post_attention_layernorm.weight`, [hidden]);
    add(`${prefix}pre_feedforward_layernorm.weight`, [hidden]);
    add(`${prefix}post_feedforward_layernorm.weight`, [hidden]);
    // A raw nn.Parameter in the HF module, hence no `.weight` suffix.
    add(`${prefix}altup.correct_output_scale`, [hidden]);
    add(`${prefix}altup.correction_coefs.weight`, [streams, streams]);
    add(`${prefix}altup.prediction_coefs.weight`, [streams * streams, streams]);
    add(`${prefix}altup.modality_router.weight`, [streams, hidden]);
    add(`${prefix}altup.router_norm.weight`, [hidden]);
    add(`${prefix}laurel.linear_left.weight`, [text.laurelRank, hidden]);
    add(`${prefix}laurel.linear_right.weight`, [hidden, text.laurelRank]);
    add(`${prefix}laurel.post_laurel_norm.weight`, [hidden]);
    add(`${prefix}per_layer_input_gate.weight`, [perLayer, hidden]);
    add(`${prefix}per_layer_projection.weight`, [hidden, perLayer]);
    add(`${prefix}post_per_layer_input_norm.weight`, [hidden]);
  }

  if (config.vision !== null) {
    addEmbedder(add, VISION_EMBEDDER_PREFIX, config.vision.vocabSize, config.vision.hiddenSize, hidden);
  }
  if (config.audio !== null) {
    addEmbedder(add, AUDIO_EMBEDDER_PREFIX, config.audio.vocabSize, config.audio.hiddenSize, hidden);
  }
  return tensors;
}

/**
 * A multimodal embedder: its own small vocabulary of hard tokens, two input norms (hard and
 * soft tokens) and a projection to the text width. The post-projection norm has no weight.
 */
function addEmbedder(
  add: (name: string, shape: number[]) => void,
  prefix: string,
  vocabSize: number,
  modalityHidden: number,
  textHidden: number,
): void {
  add(`${prefix}embedding.weight`, [vocabSize, modalityHidden]);
  add(`${prefix}hard_embedding_norm.weight`, [modalityHidden]);
  add(`${prefix}soft_embedding_norm.weight`, [modalityHidden]);
  add(`${prefix}embedding_projection.weight`, [textHidden, modalityHidden]);
}
