import type { GraphScope } from '../onnx/onnx-graph-builder';

export const MICROSOFT_DOMAIN = 'com.microsoft';

/**
 * RMSNorm over the last axis as one `SimplifiedLayerNormalization` node. It must be the
 * ai.onnx-domain (`''`) v1 op: the com.microsoft spelling is not registered in ORT 1.30 on any
 * EP (ort-op-support.md). `stash_type` 1 keeps the statistics in float32 as HF does.
 * A norm without scale (`with_scale=False`, v_norm) gets a weight of ones.
 */
export function simplifiedNorm(scope: GraphScope, name: string, x: string, weight: string, epsilon: number): string {
  return scope.op('SimplifiedLayerNormalization', [x, weight], {
    name,
    attributes: { axis: -1, epsilon: { float: epsilon }, stash_type: 1 },
  });
}

/**
 * `RMSNorm(input + skip)` and `input + skip` from one com.microsoft
 * `SkipSimplifiedLayerNormalization` node (its outputs 0 and 3), for a residual add that
 * feeds a norm.
 */
export function skipSimplifiedNorm(
  scope: GraphScope,
  name: string,
  input: string,
  skip: string,
  weight: string,
  epsilon: number,
): { normed: string; sum: string } {
  const outputs = scope.node('SkipSimplifiedLayerNormalization', [input, skip, weight], {
    name,
    domain: MICROSOFT_DOMAIN,
    outputCount: 4,
    attributes: { epsilon: { float: epsilon } },
  });
  return { normed: outputs[0]!, sum: outputs[3]! };
}

/** A float32 vector of ones: the weight of a norm without scale. */
export async function onesWeight(scope: GraphScope, name: string, length: number): Promise<string> {
  return scope.initializer(name, 'float32', [length], new Float32Array(length).fill(1));
}
