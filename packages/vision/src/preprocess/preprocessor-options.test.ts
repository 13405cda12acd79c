import { ConfigError, UnsupportedError } from '@gemma3n/core';
import { describe, expect, it } from 'vitest';
import { gemma3nPreprocessorDefaults, preprocessorOptionsFromConfig } from './preprocessor-options';

/** The image part of Gemma 3n's merged preprocessor_config.json, with some of its audio keys. */
const releaseConfig = {
  do_convert_rgb: true,
  do_normalize: false,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_processor_type: 'SiglipImageProcessorFast',
  image_seq_length: 256,
  image_std: [0.5, 0.5, 0.5],
  processor_class: 'Gemma3nProcessor',
  resample: 2,
  rescale_factor: 0.00392156862745098,
  size: { height: 768, width: 768 },
  feature_extractor_type: 'Gemma3nAudioFeatureExtractor',
  feature_size: 128,
  sampling_rate: 16000,
};

describe('preprocessorOptionsFromConfig', () => {
  it('reads the release config (ignoring its audio keys) into the Gemma 3n defaults', () => {
    expect(preprocessorOptionsFromConfig(releaseConfig)).toEqual({ ...gemma3nPreprocessorDefaults, rescaleFactor: 0.00392156862745098 });
    expect(gemma3nPreprocessorDefaults.rescaleFactor).toBe(1 / 255);
    expect(0.00392156862745098).toBe(1 / 255); // the JSON literal is the double nearest 1/255
  });

  it('follows size, normalisation and rescale settings', () => {
    const options = preprocessorOptionsFromConfig({
      ...releaseConfig,
      size: { height: 512, width: 256 },
      do_normalize: true,
      image_mean: 0.25,
      image_std: [0.1, 0.2, 0.3],
      do_rescale: false,
    });
    expect(options.size).toEqual({ height: 512, width: 256 });
    expect(options.doNormalize).toBe(true);
    expect(options.imageMean).toEqual([0.25, 0.25, 0.25]);
    expect(options.imageStd).toEqual([0.1, 0.2, 0.3]);
    expect(options.doRescale).toBe(false);
  });

  it('fills missing keys with the Gemma 3n values', () => {
    expect(preprocessorOptionsFromConfig({})).toEqual(gemma3nPreprocessorDefaults);
  });

  it('refuses other filters and aspect-preserving sizes with UnsupportedError', () => {
    expect(() => preprocessorOptionsFromConfig({ resample: 3 })).toThrow(UnsupportedError);
    expect(() => preprocessorOptionsFromConfig({ resample: 3 })).toThrow('Unsupported preprocessor_config.json resample filter "bicubic"; supported: 2 (bilinear)');
    expect(() => preprocessorOptionsFromConfig({ size: 224 })).toThrow(/means \{shortest_edge: 224\}/);
    expect(() => preprocessorOptionsFromConfig({ size: { shortest_edge: 224 } })).toThrow(UnsupportedError);
  });

  it('names the offending key in a ConfigError', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ do_normalize: 'yes' }, 'preprocessor_config.json: do_normalize is "yes"; expected true or false'],
      [{ size: { height: 768, width: -1 } }, 'preprocessor_config.json: size.width is -1; expected a positive integer'],
      [{ rescale_factor: 0 }, 'preprocessor_config.json: rescale_factor is 0; expected a positive number'],
      [{ image_std: [0.5, 0, 0.5] }, 'preprocessor_config.json: image_std is [0.5,0,0.5]; expected three non-zero numbers (one per RGB channel)'],
      [{ image_mean: [0.5, 0.5] }, 'preprocessor_config.json: image_mean is [0.5,0.5]; expected three numbers (one per RGB channel)'],
    ];
    for (const [config, message] of cases) {
      expect(() => preprocessorOptionsFromConfig(config)).toThrow(ConfigError);
      expect(() => preprocessorOptionsFromConfig(config)).toThrow(message);
    }
    expect(() => preprocessorOptionsFromConfig([])).toThrow(/\(root\)/);
  });
});
