import { InputError } from '@gemma3n/core';
import type { SamplingOptions } from '../sampling/sampling-options';

/** Options of one generation: sampling, when to stop, and how to cancel. */
export interface GenerationOptions extends SamplingOptions {
  /** Most tokens to generate (stop tokens included). Defaults to whatever the context leaves. */
  maxNewTokens?: number;
  /** Ids that end generation; default: the model's eos ids (generation_config, e.g. [1, 106]). */
  stopTokenIds?: readonly number[];
  /** Texts that end generation; the text returned ends before the first one found. */
  stopStrings?: readonly string[];
  /** Aborting it stops generation within one decoding step; the run rejects with its reason. */
  signal?: AbortSignal;
  /**
   * Called with the logits the next token is sampled from (before masking and penalties), for
   * inspection and tests. Changing the array changes nothing: the sampler works on a copy.
   */
  onLogits?: (logits: Float32Array, step: number) => void;
}

/** Values a model supplies when the caller leaves options unset. */
export interface GenerationDefaults {
  sampling?: SamplingOptions;
  stopTokenIds?: readonly number[];
}

/** Checks the non-sampling options; sampling options are checked when resolved. */
export function validateGenerationOptions(options: GenerationOptions): void {
  const { maxNewTokens, stopTokenIds, stopStrings, signal, onLogits } = options;
  if (maxNewTokens !== undefined && !(Number.isSafeInteger(maxNewTokens) && maxNewTokens >= 1)) {
    throw new InputError({ field: 'maxNewTokens', value: maxNewTokens, expected: 'an integer ≥ 1' });
  }
  if (stopTokenIds !== undefined) {
    if (!Array.isArray(stopTokenIds) || stopTokenIds.some((id) => !(Number.isSafeInteger(id) && id >= 0))) {
      throw new InputError({ field: 'stopTokenIds', value: stopTokenIds, expected: 'an array of token ids (integers ≥ 0)' });
    }
  }
  if (stopStrings !== undefined) {
    if (!Array.isArray(stopStrings) || stopStrings.some((stop) => typeof stop !== 'string' || stop === '')) {
      throw new InputError({ field: 'stopStrings', value: stopStrings, expected: 'an array of non-empty strings' });
    }
  }
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) {
    throw new InputError({ field: 'signal', value: signal, expected: 'an AbortSignal' });
  }
  if (onLogits !== undefined && typeof onLogits !== 'function') {
    throw new InputError({ field: 'onLogits', value: onLogits, expected: 'a function' });
  }
}
