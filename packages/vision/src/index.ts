/**
 * @gemma3n/vision — Gemma 3n image preprocessing: pure functions over pixel buffers (browser-safe)
 * and a browser `loadImage`. Node decoding (sharp) lives in `@gemma3n/vision/node`.
 */
export { assertImagePixels, toRgb, type ImagePixels, type RgbPixels } from './image/image-pixels';
export {
  gemma3nPreprocessorDefaults,
  preprocessorOptionsFromConfig,
  type AntialiasArithmetic,
  type PreprocessorOptions,
  type ResampleMethod,
} from './preprocess/preprocessor-options';
export { pixelValues, type PixelValues } from './preprocess/pixel-values';
export { resizeRgb, type ResizeOptions } from './resize/resize-image';
export { loadImage, type BrowserImageSource } from './load/load-image-browser';
export { detectImageFormat, supportedImageFormats, type ImageFormat } from './load/image-format';
export {
  type ImageFeatures,
  type LoadVisionEncoderParams,
  VisionEncoder,
  type VisionEncoderSession,
} from './encoder/vision-encoder';
