export {
  AudioFeatureExtractor,
  extractFeatures,
  type AudioFeatures,
  type AudioSamples,
} from './features/extract-features';
export {
  defaultFeatureOptions,
  featureOptionsFromPreprocessorConfig,
  resolveFeatureOptions,
  type FeatureOptions,
} from './features/feature-options';
export {
  hertzToMelHtk,
  melFilterBank,
  melFilterBankDense,
  melToHertzHtk,
  type MelFilter,
  type MelFilterBankParams,
} from './features/mel-filter-bank';
export { RealFft } from './features/real-fft';
export { resample, resampleQuality, type ResampleOptions } from './resample/resample';
export { readWav, type WavAudio, type WavSampleFormat } from './wav/read-wav';
export {
  decodeAudioInBrowser,
  type AudioContextFactory,
  type DecodeAudioInBrowserOptions,
  type DecodedAudio,
  type DecodedAudioBuffer,
  type DecodingAudioContext,
} from './browser/decode-audio-in-browser';
