import { onnxDtypeSuffixes, UnsupportedError } from '@gemma3n/core';

/**
 * The dtypes this package writes, with the onnx-community file suffixes (model-folder
 * contract): q4 → `_q4` (MatMulNBits, fp32 scales), q8 → `_quantized` (int8 weights),
 * fp16 → `_fp16` (fp16 weights and compute, fp32 graph inputs and outputs), q4f16 →
 * `_q4f16` (q4 with fp16 scales, then fp16 compute).
 */
export type QuantizationDtype = 'q4' | 'q8' | 'fp16' | 'q4f16';

export const QUANTIZATION_DTYPES: readonly QuantizationDtype[] = ['q4', 'q8', 'fp16', 'q4f16'];

/** Dtypes the folder contract names that this package cannot write yet, for a precise error. */
const NOT_YET_WRITTEN = ['int8', 'uint8', 'bnb4'];

export const QUANTIZATION_SUFFIXES: Readonly<Record<QuantizationDtype, string>> = {
  q4: onnxDtypeSuffixes.q4,
  q8: onnxDtypeSuffixes.q8,
  fp16: onnxDtypeSuffixes.fp16,
  q4f16: onnxDtypeSuffixes.q4f16,
};

/** `value` as a QuantizationDtype, or an UnsupportedError listing the ones there are. */
export function parseQuantizationDtype(value: unknown): QuantizationDtype {
  if (typeof value === 'string' && (QUANTIZATION_DTYPES as readonly string[]).includes(value)) return value as QuantizationDtype;
  const known = typeof value === 'string' && NOT_YET_WRITTEN.includes(value);
  throw new UnsupportedError({
    feature: 'quantization dtype',
    value,
    supported: QUANTIZATION_DTYPES,
    message: known
      ? `Quantization dtype "${String(value)}" is a valid model-folder dtype but this package does not write it yet; supported: ${QUANTIZATION_DTYPES.join(', ')}`
      : undefined,
  });
}

/** File-name suffix of every dtype of the model-folder contract (what readers look for): core's table. */
export const FOLDER_DTYPE_SUFFIXES: Readonly<Record<string, string>> = onnxDtypeSuffixes;
