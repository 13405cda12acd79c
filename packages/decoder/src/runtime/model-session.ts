import type { InferenceSession, Tensor } from 'onnxruntime-common';

/**
 * The part of an onnxruntime `InferenceSession` the decoder uses. Real sessions from any
 * backend satisfy it; so do the test doubles in `@gemma3n/decoder/testing`.
 */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Declared types and shapes (onnxruntime ≥ 1.21); used for the dtype of empty past tensors. */
  readonly inputMetadata?: readonly InferenceSession.ValueMetadata[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  release?(): Promise<void>;
}

/** The declared element type and shape of one input, when the session exposes them. */
export function declaredInput(
  session: ModelSession,
  name: string,
): { type: Tensor.Type; shape: ReadonlyArray<number | string> } | undefined {
  const metadata = session.inputMetadata?.find((entry) => entry.name === name);
  if (metadata === undefined || !metadata.isTensor) return undefined;
  return { type: metadata.type, shape: metadata.shape };
}
