import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/config-error';
import { parseGemma3nConfig } from './parse-gemma3n-config';

/** The E2B `config.json` as the converter writes it (values of architecture doc §1.1, §3, §4). */
function e2bConfigJson(): Record<string, unknown> {
  return {
    model_type: 'gemma3n',
    architectures: ['Gemma3nForConditionalGeneration'],
    image_token_id: 262145,
    audio_token_id: 262273,
    boi_token_id: 255999,
    eoi_token_id: 262144,
    boa_token_id: 256000,
    eoa_token_id: 262272,
    vision_soft_tokens_per_image: 256,
    audio_soft_tokens_per_image: 188,
    text_config: {
      model_type: 'gemma3n_text',
      vocab_size: 262400,
      vocab_size_per_layer_input: 262144,
      hidden_size: 2048,
      hidden_size_per_layer_input: 256,
      num_hidden_layers: 30,
      intermediate_size: new Array(30).fill(8192),
      num_attention_heads: 8,
      num_key_value_heads: 2,
      head_dim: 256,
      num_kv_shared_layers: 10,
      activation_sparsity_pattern: [...new Array(10).fill(0.95), ...new Array(20).fill(0)],
      sliding_window: 512,
      rope_theta: 1000000,
      rope_local_base_freq: 10000,
      max_position_embeddings: 32768,
      rms_norm_eps: 1e-6,
      altup_num_inputs: 4,
      altup_active_idx: 0,
      altup_coef_clip: 120,
      altup_correct_scale: true,
      laurel_rank: 64,
      hidden_activation: 'gelu_pytorch_tanh',
      final_logit_softcapping: 30,
      tie_word_embeddings: true,
      pad_token_id: 0,
      eos_token_id: 1,
      bos_token_id: 2,
    },
    vision_config: { model_type: 'gemma3n_vision', hidden_size: 2048, vocab_size: 128, vocab_offset: 262144 },
    audio_config: { model_type: 'gemma3n_audio', hidden_size: 1536, vocab_size: 128, vocab_offset: 262272 },
  };
}

function withText(patch: Record<string, unknown>): Record<string, unknown> {
  const json = e2bConfigJson();
  json.text_config = { ...(json.text_config as Record<string, unknown>), ...patch };
  return json;
}

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('parseGemma3nConfig', () => {
  it('reads the E2B config', () => {
    const config = parseGemma3nConfig(e2bConfigJson());
    expect(config.text.numHiddenLayers).toBe(30);
    expect(config.text.intermediateSize).toEqual(new Array(30).fill(8192));
    expect(config.text.eosTokenId).toEqual([1]);
    expect(config.text.ropeTheta).toBe(1e6);
    expect(config.text.ropeLocalBaseFreq).toBe(1e4);
    expect(config.vision?.hiddenSize).toBe(2048);
    expect(config.vision?.vocabOffset).toBe(262144);
    expect(config.audio?.hiddenSize).toBe(1536);
    expect(config.audio?.vocabOffset).toBe(262272);
    expect(config.audio?.sscpConvKernelSize).toEqual([
      [3, 3],
      [3, 3],
    ]);
    expect(config.imageTokenId).toBe(262145);
    expect(config.raw).toEqual(e2bConfigJson());
  });

  it('fills a minimal config with the E2B defaults', () => {
    const config = parseGemma3nConfig({ model_type: 'gemma3n' });
    const text = config.text;
    expect(text.vocabSize).toBe(262400);
    expect(text.hiddenSize).toBe(2048);
    expect(text.numHiddenLayers).toBe(30);
    expect(text.intermediateSize).toHaveLength(30);
    expect(text.intermediateSize.every((size) => size === 8192)).toBe(true);
    const fullLayers = text.layerTypes.flatMap((type, layer) => (type === 'full_attention' ? [layer] : []));
    expect(fullLayers).toEqual([4, 9, 14, 19, 24, 29]);
    expect(text.activationSparsityPattern.slice(8, 12)).toEqual([0.95, 0.95, 0, 0]);
    expect(text.activationSparsityPattern).toHaveLength(30);
    expect(text.numKvSharedLayers).toBe(10);
    expect(text.finalLogitSoftcapping).toBe(30);
    expect(text.attnLogitSoftcapping).toBeNull();
    expect(text.altupCoefClip).toBe(120);
    expect([text.padTokenId, text.eosTokenId, text.bosTokenId]).toEqual([0, [1], 2]);
    expect(config.architectures).toEqual(['Gemma3nForConditionalGeneration']);
    expect(config.audioSoftTokensPerImage).toBe(188);
    expect(config.vision).toBeNull();
    expect(config.audio).toBeNull();
  });

  it('fills vision and audio defaults when their sections are present but empty', () => {
    const config = parseGemma3nConfig({ model_type: 'gemma3n', vision_config: {}, audio_config: {} });
    expect(config.vision).toMatchObject({ hiddenSize: 2048, vocabSize: 128, vocabOffset: 262144 });
    expect(config.audio).toMatchObject({
      hiddenSize: 1536,
      vocabOffset: 262272,
      confAttentionContextLeft: 13,
      confAttentionChunkSize: 12,
      sscpConvChannelSize: [128, 32],
      sscpConvGroupNormEps: 1e-3,
    });
  });

  it('accepts rope_parameters per layer type and lets it win over the flat fields', () => {
    const config = parseGemma3nConfig(
      withText({
        rope_theta: 5,
        rope_local_base_freq: 7,
        rope_parameters: {
          full_attention: { rope_type: 'default', rope_theta: 2_000_000 },
          sliding_attention: { rope_type: 'default' },
        },
      }),
    );
    expect(config.text.ropeTheta).toBe(2_000_000);
    // The sliding entry has no rope_theta, so the flat field fills it.
    expect(config.text.ropeLocalBaseFreq).toBe(7);
  });

  it('rejects RoPE scaling and a flat rope_parameters object', () => {
    const scaled = configErrorOf(() =>
      parseGemma3nConfig(withText({ rope_parameters: { full_attention: { rope_type: 'linear', factor: 2 } } })),
    );
    expect(scaled.field).toBe('text_config.rope_parameters.full_attention.rope_type');
    const flat = configErrorOf(() => parseGemma3nConfig(withText({ rope_parameters: { rope_theta: 10000 } })));
    expect(flat.field).toBe('text_config.rope_parameters.rope_theta');
  });

  it('expands scalar intermediate_size and activation_sparsity_pattern to every layer', () => {
    const config = parseGemma3nConfig(
      withText({ num_hidden_layers: 5, num_kv_shared_layers: 0, intermediate_size: 64, activation_sparsity_pattern: 0.5 }),
    );
    expect(config.text.intermediateSize).toEqual([64, 64, 64, 64, 64]);
    expect(config.text.activationSparsityPattern).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(config.text.layerTypes).toEqual([
      'sliding_attention',
      'sliding_attention',
      'sliding_attention',
      'sliding_attention',
      'full_attention',
    ]);
  });

  it('uses no sparse layers by default in models of 10 layers or fewer', () => {
    const json = { model_type: 'gemma3n', text_config: { num_hidden_layers: 10, num_kv_shared_layers: 0 } };
    expect(parseGemma3nConfig(json).text.activationSparsityPattern).toEqual(new Array(10).fill(0));
  });

  it('names the offending element of a per-layer list', () => {
    const sizes = new Array(30).fill(8192);
    sizes[3] = -1;
    const error = configErrorOf(() => parseGemma3nConfig(withText({ intermediate_size: sizes })));
    expect(error.field).toBe('text_config.intermediate_size[3]');
    expect(error.value).toBe(-1);
    expect(error.expected).toBe('a positive integer');
    expect(error.source).toBe('config.json');
    expect(error.message).toBe('config.json: text_config.intermediate_size[3] is -1; expected a positive integer');
  });

  it('rejects per-layer lists whose length is not num_hidden_layers', () => {
    const error = configErrorOf(() => parseGemma3nConfig(withText({ intermediate_size: [8192, 8192] })));
    expect(error.field).toBe('text_config.intermediate_size');
    expect(error.expected).toContain('30 values');
    const layerTypes = configErrorOf(() => parseGemma3nConfig(withText({ layer_types: ['full_attention'] })));
    expect(layerTypes.field).toBe('text_config.layer_types');
  });

  it('rejects sparsity outside [0, 1) and unknown layer types', () => {
    const pattern = new Array(30).fill(0);
    pattern[2] = 1;
    const sparsity = configErrorOf(() => parseGemma3nConfig(withText({ activation_sparsity_pattern: pattern })));
    expect(sparsity.field).toBe('text_config.activation_sparsity_pattern[2]');
    expect(sparsity.expected).toBe('a finite number ≥ 0 and < 1');
    const types = new Array(30).fill('sliding_attention');
    types[7] = 'chunked_attention';
    const layerType = configErrorOf(() => parseGemma3nConfig(withText({ layer_types: types })));
    expect(layerType.field).toBe('text_config.layer_types[7]');
    expect(layerType.value).toBe('chunked_attention');
  });

  it('checks the relations between fields', () => {
    expect(configErrorOf(() => parseGemma3nConfig(withText({ num_key_value_heads: 3 }))).field).toBe(
      'text_config.num_key_value_heads',
    );
    expect(configErrorOf(() => parseGemma3nConfig(withText({ num_kv_shared_layers: 30 }))).field).toBe(
      'text_config.num_kv_shared_layers',
    );
    expect(configErrorOf(() => parseGemma3nConfig(withText({ vocab_size: 1000 }))).field).toBe(
      'text_config.vocab_size_per_layer_input',
    );
    expect(configErrorOf(() => parseGemma3nConfig(withText({ altup_active_idx: 4 }))).field).toBe(
      'text_config.altup_active_idx',
    );
    expect(configErrorOf(() => parseGemma3nConfig(withText({ head_dim: 255 }))).field).toBe('text_config.head_dim');
  });

  it('says when the offending value is a default the file does not contain', () => {
    const error = configErrorOf(() => parseGemma3nConfig({ model_type: 'gemma3n', text_config: { num_hidden_layers: 4 } }));
    expect(error.field).toBe('text_config.num_kv_shared_layers');
    expect(error.value).toBe(10);
    expect(error.message).toBe(
      'config.json: text_config.num_kv_shared_layers is 10; expected fewer than num_hidden_layers (4) ' +
        '(the field is absent and defaults to 10; set it explicitly)',
    );
    const explicit = configErrorOf(() => parseGemma3nConfig(withText({ num_kv_shared_layers: 40 })));
    expect(explicit.message).not.toContain('absent');
  });

  it('rejects a shared layer type that has no producer below the first shared layer', () => {
    // Only layer 4 is full attention, and it is shared: nothing below it can produce its K/V.
    const error = configErrorOf(() =>
      parseGemma3nConfig(withText({ num_hidden_layers: 5, intermediate_size: 64, activation_sparsity_pattern: 0, num_kv_shared_layers: 1 })),
    );
    expect(error.field).toBe('text_config.layer_types[4]');
    expect(error.value).toBe('full_attention');
  });

  it('reads eos as a number or a list, from text_config first, then the top level', () => {
    expect(parseGemma3nConfig(withText({ eos_token_id: [1, 106] })).text.eosTokenId).toEqual([1, 106]);
    expect(parseGemma3nConfig({ model_type: 'gemma3n', eos_token_id: 106 }).text.eosTokenId).toEqual([106]);
    expect(parseGemma3nConfig({ model_type: 'gemma3n', eos_token_id: [7], text_config: { eos_token_id: 1 } }).text.eosTokenId).toEqual([1]);
    const empty = configErrorOf(() => parseGemma3nConfig(withText({ eos_token_id: [] })));
    expect(empty.field).toBe('text_config.eos_token_id');
    const outside = configErrorOf(() => parseGemma3nConfig(withText({ eos_token_id: [1, 262400] })));
    expect(outside.field).toBe('text_config.eos_token_id[1]');
  });

  it('treats null softcapping as disabled but null sizes as absent', () => {
    const config = parseGemma3nConfig(withText({ final_logit_softcapping: null, altup_coef_clip: null, head_dim: null }));
    expect(config.text.finalLogitSoftcapping).toBeNull();
    expect(config.text.altupCoefClip).toBeNull();
    expect(config.text.headDim).toBe(256);
  });

  it('checks the vision and audio vocabularies against the text vocabulary', () => {
    const json = e2bConfigJson();
    json.audio_config = { vocab_offset: 262300, vocab_size: 128 };
    const audio = configErrorOf(() => parseGemma3nConfig(json));
    expect(audio.field).toBe('audio_config.vocab_offset');
    expect(audio.value).toBe(262300);

    const imageToken = e2bConfigJson();
    imageToken.image_token_id = 262273;
    expect(configErrorOf(() => parseGemma3nConfig(imageToken)).field).toBe('image_token_id');

    const sscp = e2bConfigJson();
    sscp.audio_config = { sscp_conv_kernel_size: [[3, 3], [3]] };
    expect(configErrorOf(() => parseGemma3nConfig(sscp)).field).toBe('audio_config.sscp_conv_kernel_size[1]');
  });

  it('reads vision and audio sizes from the config', () => {
    const json = e2bConfigJson();
    json.vision_config = { hidden_size: 1024, rms_norm_eps: 1e-5 };
    json.audio_config = { hidden_size: 768, conf_num_attention_heads: 4, conf_num_hidden_layers: 2 };
    const config = parseGemma3nConfig(json);
    expect(config.vision).toMatchObject({ hiddenSize: 1024, rmsNormEps: 1e-5 });
    expect(config.audio).toMatchObject({ hiddenSize: 768, confNumAttentionHeads: 4, confNumHiddenLayers: 2 });
    expect(configErrorOf(() => parseGemma3nConfig({ ...json, audio_config: { hidden_size: 770 } })).field).toBe(
      'audio_config.hidden_size',
    );
  });

  it('rejects what is not a Gemma 3n config, naming the source', () => {
    const notObject = configErrorOf(() => parseGemma3nConfig([1, 2], 'models/x/config.json'));
    expect(notObject.message).toBe('models/x/config.json: (top level) is [1,2]; expected a JSON object');
    const wrongModel = configErrorOf(() => parseGemma3nConfig({ model_type: 'gemma3' }));
    expect(wrongModel.field).toBe('model_type');
    expect(wrongModel.value).toBe('gemma3');
    const textType = configErrorOf(() => parseGemma3nConfig({ model_type: 'gemma3n', text_config: 'x' }));
    expect(textType.field).toBe('text_config');
    expect(textType.expected).toBe('an object');
    const wrongType = configErrorOf(() => parseGemma3nConfig(withText({ hidden_size: '2048' })));
    expect(wrongType.field).toBe('text_config.hidden_size');
    expect(wrongType.value).toBe('2048');
  });
});
