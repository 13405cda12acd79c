/**
 * @gemma3n/quantization/node: the file-level passes (Node only: they read and write model
 * folders) and the quantized-vs-fp32 evaluation, on top of the browser-safe entry.
 */
export * from './index';
export { OnnxModelReader } from './onnx/onnx-model-reader';
export { findQuantizableTensors, quantizeModelFile, type QuantizeModelOptions, type QuantizeModelResult, type QuantizeProgress, type QuantizedTensorReport, type SkippedNodeReport } from './passes/quantize-model-file';
export { quantizeModelFolder, updatedConfig, type QuantizeFolderOptions, type QuantizeFolderProgress, type QuantizeFolderResult } from './folder/quantize-folder';
export {
  evaluateQuantization,
  openTextSessions,
  textSessionFile,
  type EvaluateQuantizationOptions,
  type OrtRuntime,
  type OrtSession,
  type OrtTensor,
  type QuantizationEvaluation,
  type TextSessions,
} from './evaluation/evaluate-quantization';
export { runQuantizeCommand, defaultQuantizedDir, type QuantizeCommandOptions, type CommandOutput } from './cli/quantize-command';
export { runEvalQuantCommand, type EvalQuantCommandOptions } from './cli/eval-quant-command';
export { convertModelFileToFloat16, floatTensorNames, type ConvertFloat16Options } from './passes/convert-float16';
