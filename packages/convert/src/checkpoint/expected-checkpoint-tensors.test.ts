import { parseGemma3nConfig } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { expectedCheckpointTensors } from './expected-checkpoint-tensors';

// config.json of the released E2B with only the fields the parser cannot default.
const e2bConfig = parseGemma3nConfig({
  model_type: 'gemma3n',
  architectures: ['Gemma3nForConditionalGeneration'],
  text_config: { model_type: 'gemma3n_text' },
  vision_config: { model_type: 'gemma3n_vision' },
  audio_config: { model_type: 'gemma3n_audio' },
});

describe('expectedCheckpointTensors', () => {
  const tensors = expectedCheckpointTensors(e2bConfig);
  const shapeOf = (name: string) => tensors.find((tensor) => tensor.name === name)?.shape;

  it('lists the E2B text tensors of architecture §6 with their shapes', () => {
    const text = 'model.language_model.';
    expect(shapeOf(`${text}embed_tokens.weight`)).toEqual([262_400, 2048]);
    expect(shapeOf(`${text}embed_tokens_per_layer.weight`)).toEqual([262_144, 7680]);
    expect(shapeOf(`${text}per_layer_model_projection.weight`)).toEqual([7680, 2048]);
    expect(shapeOf(`${text}per_layer_projection_norm.weight`)).toEqual([256]);
    expect(shapeOf(`${text}altup_projections.2.weight`)).toEqual([2048, 2048]);
    expect(shapeOf(`${text}altup_projections.3.weight`)).toBeUndefined();
    expect(shapeOf(`${text}altup_unembed_projections.0.weight`)).toEqual([2048, 2048]);
    const layer = `${text}layers.7.`;
    expect(shapeOf(`${layer}self_attn.q_proj.weight`)).toEqual([2048, 2048]);
    expect(shapeOf(`${layer}self_attn.k_proj.weight`)).toEqual([512, 2048]);
    expect(shapeOf(`${layer}self_attn.o_proj.weight`)).toEqual([2048, 2048]);
    expect(shapeOf(`${layer}self_attn.q_norm.weight`)).toEqual([256]);
    expect(shapeOf(`${layer}mlp.gate_proj.weight`)).toEqual([8192, 2048]);
    expect(shapeOf(`${layer}mlp.down_proj.weight`)).toEqual([2048, 8192]);
    expect(shapeOf(`${layer}altup.correct_output_scale`)).toEqual([2048]);
    expect(shapeOf(`${layer}altup.correction_coefs.weight`)).toEqual([4, 4]);
    expect(shapeOf(`${layer}altup.prediction_coefs.weight`)).toEqual([16, 4]);
    expect(shapeOf(`${layer}altup.modality_router.weight`)).toEqual([4, 2048]);
    expect(shapeOf(`${layer}laurel.linear_left.weight`)).toEqual([64, 2048]);
    expect(shapeOf(`${layer}laurel.linear_right.weight`)).toEqual([2048, 64]);
    expect(shapeOf(`${layer}per_layer_input_gate.weight`)).toEqual([256, 2048]);
    expect(shapeOf(`${layer}per_layer_projection.weight`)).toEqual([2048, 256]);
    expect(shapeOf('lm_head.weight')).toBeUndefined();
  });

  it('keeps k_proj, v_proj and k_norm on KV-consumer layers, as released checkpoints do', () => {
    // E2B: layers 20–29 reuse the K/V of layers 18 and 19.
    expect(shapeOf('model.language_model.layers.25.self_attn.k_proj.weight')).toEqual([512, 2048]);
    expect(shapeOf('model.language_model.layers.29.self_attn.v_proj.weight')).toEqual([512, 2048]);
    expect(shapeOf('model.language_model.layers.29.self_attn.k_norm.weight')).toEqual([256]);
  });

  it('lists the embedders with their own widths', () => {
    expect(shapeOf('model.embed_vision.embedding.weight')).toEqual([128, 2048]);
    expect(shapeOf('model.embed_vision.embedding_projection.weight')).toEqual([2048, 2048]);
    expect(shapeOf('model.embed_audio.embedding.weight')).toEqual([128, 1536]);
    expect(shapeOf('model.embed_audio.hard_embedding_norm.weight')).toEqual([1536]);
    expect(shapeOf('model.embed_audio.embedding_projection.weight')).toEqual([2048, 1536]);
  });

  it('has 11 top-level + 24 per layer + 8 embedder tensors, all names unique', () => {
    expect(tensors).toHaveLength(11 + 24 * 30 + 8);
    expect(new Set(tensors.map((tensor) => tensor.name)).size).toBe(tensors.length);
  });

  it('follows per-layer intermediate sizes and skips absent embedders', () => {
    const config = parseGemma3nConfig({
      model_type: 'gemma3n',
      text_config: { hidden_size: 32, num_hidden_layers: 2, intermediate_size: [48, 80], num_kv_shared_layers: 0,
        activation_sparsity_pattern: [0, 0], layer_types: ['sliding_attention', 'full_attention'] },
    });
    const small = expectedCheckpointTensors(config);
    const find = (name: string) => small.find((tensor) => tensor.name === name)?.shape;
    expect(find('model.language_model.layers.0.mlp.up_proj.weight')).toEqual([48, 32]);
    expect(find('model.language_model.layers.1.mlp.down_proj.weight')).toEqual([32, 80]);
    expect(small.some((tensor) => tensor.name.startsWith('model.embed_'))).toBe(false);
  });
});
