import type { Gemma3nConfig } from '@gemma3n/core';
import { visionArchitectureFromConfig } from './vision/mobilenet-v5-architecture';

/**
 * Files of a Gemma 3n model folder that a checkpoint may lack, with the values of the released
 * google/gemma-3n-E2B-it repository, so a converted folder is complete.
 */

/** generation_config.json of the instruction-tuned release: stop on <eos> or <end_of_turn>. */
export function defaultGenerationConfig(config: Gemma3nConfig): Record<string, unknown> {
  return {
    bos_token_id: config.text.bosTokenId,
    cache_implementation: 'hybrid',
    do_sample: true,
    eos_token_id: [1, 106],
    pad_token_id: config.text.padTokenId,
    top_k: 64,
    top_p: 0.95,
  };
}

/** processor_config.json: how many soft tokens one image / one audio clip expands to. */
export function defaultProcessorConfig(config: Gemma3nConfig): Record<string, unknown> {
  return {
    audio_seq_length: config.audioSoftTokensPerImage,
    image_seq_length: config.visionSoftTokensPerImage,
    processor_class: 'Gemma3nProcessor',
  };
}

/**
 * The square image side the vision encoder takes: 768 for the release; a tower described by
 * `vision_config.mobilenetv5_architecture` (tiny test towers) says its own `image_size`.
 */
export function visionImageSize(config: Gemma3nConfig): number {
  if (config.vision === null || config.vision.raw['mobilenetv5_architecture'] === undefined) return 768;
  return visionArchitectureFromConfig(config.vision).imageSize;
}

/**
 * preprocessor_config.json: the image processor (SigLIP, 768×768 or the tower's size, rescale
 * only) and the audio feature extractor (architecture doc §4.1) merged into one object, as the
 * release ships it.
 */
export function defaultPreprocessorConfig(config: Gemma3nConfig): Record<string, unknown> {
  const imageSize = visionImageSize(config);
  return {
    audio_seq_length: config.audioSoftTokensPerImage,
    crop_size: null,
    data_format: 'channels_first',
    default_to_square: false,
    device: null,
    dither: 0.0,
    do_center_crop: null,
    do_convert_rgb: null,
    do_normalize: false,
    do_rescale: true,
    do_resize: true,
    feature_extractor_type: 'Gemma3nAudioFeatureExtractor',
    feature_size: 128,
    fft_length: 1024,
    fft_overdrive: true,
    frame_length: 512,
    hop_length: 160,
    image_mean: [0.5, 0.5, 0.5],
    image_processor_type: 'SiglipImageProcessorFast',
    image_seq_length: config.visionSoftTokensPerImage,
    image_std: [0.5, 0.5, 0.5],
    input_data_format: null,
    input_scale_factor: 1.0,
    max_frequency: 7600.0,
    mel_floor: 1e-5,
    min_frequency: 125.0,
    padding_side: 'right',
    padding_value: 0.0,
    per_bin_mean: null,
    per_bin_stddev: null,
    preemphasis: 0.97,
    preemphasis_htk_flavor: true,
    processor_class: 'Gemma3nProcessor',
    resample: 2,
    rescale_factor: 1 / 255,
    return_attention_mask: true,
    return_tensors: null,
    sampling_rate: 16000,
    size: { height: imageSize, width: imageSize },
  };
}
