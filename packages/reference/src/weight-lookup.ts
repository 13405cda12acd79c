import { InputError } from '@gemma3n/core';

/**
 * Returns a checkpoint tensor by its Hugging Face name (architecture doc §6), as float32, in the
 * Hugging Face layout: `[out, in]` row-major for Linear weights, `[rows, width]` for embedding
 * tables. The lookup may throw for a name it does not hold.
 */
export type WeightLookup = (name: string) => Float32Array;

/** Prefix of every text-decoder tensor in a multimodal Gemma 3n checkpoint (§6). */
export const textPrefix = 'model.language_model.';

/** Name of a text-decoder tensor that is not per layer, e.g. `embed_tokens.weight`. */
export function textWeightName(suffix: string): string {
  return `${textPrefix}${suffix}`;
}

/** Name of a tensor of decoder layer `layerIndex`, e.g. `self_attn.q_proj.weight`. */
export function layerWeightName(layerIndex: number, suffix: string): string {
  return `${textPrefix}layers.${layerIndex}.${suffix}`;
}

/**
 * Looks a tensor up and checks its element count against the shape the config implies, so a
 * wrong config or a wrongly laid out test weight fails here, by name, instead of silently reading
 * past a row.
 */
export function readWeight(weights: WeightLookup, name: string, shape: readonly number[]): Float32Array {
  const tensor = weights(name);
  const expectedLength = shape.reduce((product, size) => product * size, 1);
  if (!(tensor instanceof Float32Array) || tensor.length !== expectedLength) {
    throw new InputError({
      field: `weights("${name}")`,
      value: tensor instanceof Float32Array ? `a Float32Array of ${tensor.length} values` : tensor,
      expected: `a Float32Array of ${expectedLength} values (shape [${shape.join(', ')}])`,
    });
  }
  return tensor;
}
