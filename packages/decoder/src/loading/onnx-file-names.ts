import { isOnnxDtype, onnxDtypeSuffixes, type OnnxDtype, UnsupportedError } from '@gemma3n/core';

// The dtype table is the model-folder contract's, shared with the quantizer and apps; kept
// exported from here under its old names.
export { onnxDtypeSuffixes as dtypeSuffixes, type OnnxDtype };

/** The text sessions, needed by every prompt. */
export type TextSessionName = 'embed_tokens' | 'decoder_model_merged';

/** The encoders, opened only when a prompt has an image or audio. */
export type EncoderSessionName = 'vision_encoder' | 'audio_encoder';

export type SessionName = TextSessionName | EncoderSessionName;

/** One dtype for every file, or one per file (as `transformers.js_config.dtype` may give). */
export type DtypeChoice = OnnxDtype | Partial<Record<SessionName, OnnxDtype>>;

function checkDtype(value: unknown, field: string): OnnxDtype {
  if (isOnnxDtype(value)) return value;
  throw new UnsupportedError({ feature: field, value: String(value), supported: Object.keys(onnxDtypeSuffixes) });
}

/**
 * The dtype of one session: the caller's choice first, then `config.json`'s
 * `transformers.js_config.dtype` (as transformers.js reads it), then fp32.
 */
export function dtypeFor(session: SessionName, choice: DtypeChoice | undefined, rawConfig: Record<string, unknown>): OnnxDtype {
  const pick = (value: unknown, field: string): OnnxDtype | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return checkDtype(value, field);
    if (typeof value === 'object') {
      const perFile = (value as Record<string, unknown>)[session];
      return perFile === undefined ? undefined : checkDtype(perFile, `${field}.${session}`);
    }
    return checkDtype(value, field);
  };
  const transformersJs = rawConfig['transformers.js_config'];
  const configured =
    transformersJs !== null && typeof transformersJs === 'object' ? (transformersJs as Record<string, unknown>).dtype : undefined;
  return pick(choice, 'dtype') ?? pick(configured, 'transformers.js_config.dtype') ?? 'fp32';
}

/** `onnx/decoder_model_merged_q4.onnx` for (`decoder_model_merged`, `q4`). */
export function onnxFileName(session: SessionName, dtype: OnnxDtype): string {
  return `onnx/${session}${onnxDtypeSuffixes[dtype]}.onnx`;
}
