/**
 * Per-file weight formats of the transformers.js model-folder layout (model-folder-contract.md).
 * The decoder picks files by this table, the quantizer names what it writes by it, and apps
 * list what to prefetch by it, so the three cannot drift apart.
 */
export type OnnxDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

/** File-name suffix of each dtype: `onnx/decoder_model_merged_q4.onnx` is the `q4` file. */
export const onnxDtypeSuffixes: Readonly<Record<OnnxDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** Whether `value` names a dtype of the table (own keys only, so `toString` is not one). */
export function isOnnxDtype(value: unknown): value is OnnxDtype {
  return typeof value === 'string' && Object.hasOwn(onnxDtypeSuffixes, value);
}
