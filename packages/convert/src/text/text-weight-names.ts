import type { TensorSource } from '../tensor-source';

/**
 * Checkpoint names of the text model (architecture §6). Released multimodal checkpoints put the
 * language model under `model.language_model.`; a text-only `Gemma3nForCausalLM` export puts it
 * under `model.`. The prefix is detected from `embed_tokens.weight`.
 */
export interface TextWeightNames {
  prefix: string;
  embedTokens: string;
  embedTokensPerLayer: string;
  perLayerModelProjection: string;
  perLayerProjectionNorm: string;
  altupProjection(index: number): string;
  altupUnembedProjection(index: number): string;
  finalNorm: string;
  layer(index: number): LayerWeightNames;
}

export interface LayerWeightNames {
  qProj: string;
  kProj: string;
  vProj: string;
  oProj: string;
  qNorm: string;
  kNorm: string;
  gateProj: string;
  upProj: string;
  downProj: string;
  inputLayernorm: string;
  postAttentionLayernorm: string;
  preFeedforwardLayernorm: string;
  postFeedforwardLayernorm: string;
  altupCorrectOutputScale: string;
  altupCorrectionCoefs: string;
  altupPredictionCoefs: string;
  altupModalityRouter: string;
  altupRouterNorm: string;
  laurelLinearLeft: string;
  laurelLinearRight: string;
  laurelPostNorm: string;
  perLayerInputGate: string;
  perLayerProjection: string;
  postPerLayerInputNorm: string;
}

const TEXT_PREFIXES = ['model.language_model.', 'model.'];

export function textWeightNames(weights: TensorSource): TextWeightNames {
  const prefix = TEXT_PREFIXES.find((candidate) => weights.has(`${candidate}embed_tokens.weight`));
  if (prefix === undefined) {
    throw new Error(
      `the checkpoint has no text embedding table: expected ${TEXT_PREFIXES.map((candidate) => `${candidate}embed_tokens.weight`).join(' or ')}`,
    );
  }
  return {
    prefix,
    embedTokens: `${prefix}embed_tokens.weight`,
    embedTokensPerLayer: `${prefix}embed_tokens_per_layer.weight`,
    perLayerModelProjection: `${prefix}per_layer_model_projection.weight`,
    perLayerProjectionNorm: `${prefix}per_layer_projection_norm.weight`,
    altupProjection: (index) => `${prefix}altup_projections.${index}.weight`,
    altupUnembedProjection: (index) => `${prefix}altup_unembed_projections.${index}.weight`,
    finalNorm: `${prefix}norm.weight`,
    layer: (index) => layerWeightNames(`${prefix}layers.${index}.`),
  };
}

function layerWeightNames(layer: string): LayerWeightNames {
  return {
    qProj: `${layer}self_attn.q_proj.weight`,
    kProj: `${layer}self_attn.k_proj.weight`,
    vProj: `${layer}self_attn.v_proj.weight`,
    oProj: `${layer}self_attn.o_proj.weight`,
    qNorm: `${layer}self_attn.q_norm.weight`,
    kNorm: `${layer}self_attn.k_norm.weight`,
    gateProj: `${layer}mlp.gate_proj.weight`,
    upProj: `${layer}mlp.up_proj.weight`,
    downProj: `${layer}mlp.down_proj.weight`,
    inputLayernorm: `${layer}input_layernorm.weight`,
    postAttentionLayernorm: `${layer}post_attention_layernorm.weight`,
    preFeedforwardLayernorm: `${layer}pre_feedforward_layernorm.weight`,
    postFeedforwardLayernorm: `${layer}post_feedforward_layernorm.weight`,
    // A raw nn.Parameter in Hugging Face, hence no `.weight`.
    altupCorrectOutputScale: `${layer}altup.correct_output_scale`,
    altupCorrectionCoefs: `${layer}altup.correction_coefs.weight`,
    altupPredictionCoefs: `${layer}altup.prediction_coefs.weight`,
    altupModalityRouter: `${layer}altup.modality_router.weight`,
    altupRouterNorm: `${layer}altup.router_norm.weight`,
    laurelLinearLeft: `${layer}laurel.linear_left.weight`,
    laurelLinearRight: `${layer}laurel.linear_right.weight`,
    laurelPostNorm: `${layer}laurel.post_laurel_norm.weight`,
    perLayerInputGate: `${layer}per_layer_input_gate.weight`,
    perLayerProjection: `${layer}per_layer_projection.weight`,
    postPerLayerInputNorm: `${layer}post_per_layer_input_norm.weight`,
  };
}

/** Names of a multimodal embedder (`model.embed_vision.` / `model.embed_audio.`). */
export interface EmbedderWeightNames {
  embedding: string;
  hardEmbeddingNorm: string;
  embeddingProjection: string;
}

export function embedderWeightNames(kind: 'vision' | 'audio'): EmbedderWeightNames {
  const prefix = `model.embed_${kind}.`;
  return {
    embedding: `${prefix}embedding.weight`,
    hardEmbeddingNorm: `${prefix}hard_embedding_norm.weight`,
    embeddingProjection: `${prefix}embedding_projection.weight`,
  };
}
