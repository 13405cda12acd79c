/**
 * Comparison of two next-token distributions given as logits: KL(p‖q) of the softmaxes (p the
 * fp32 reference) and whether their top-1 tokens agree. Pure code, safe in browsers.
 */

export interface NextTokenComparison {
  /** KL(p_reference ‖ p_candidate) in nats. */
  kl: number;
  topOneAgrees: boolean;
  referenceTop: number;
  candidateTop: number;
}

/** log-softmax in float64, stable (the maximum is subtracted first). */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let maximum = -Infinity;
  for (let index = 0; index < logits.length; index++) maximum = Math.max(maximum, logits[index]!);
  let sum = 0;
  for (let index = 0; index < logits.length; index++) sum += Math.exp(logits[index]! - maximum);
  const logSum = maximum + Math.log(sum);
  const result = new Float64Array(logits.length);
  for (let index = 0; index < logits.length; index++) result[index] = logits[index]! - logSum;
  return result;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}

export function compareNextToken(referenceLogits: ArrayLike<number>, candidateLogits: ArrayLike<number>): NextTokenComparison {
  if (referenceLogits.length !== candidateLogits.length) {
    throw new RangeError(`logit rows differ in length: ${referenceLogits.length} vs ${candidateLogits.length}`);
  }
  const reference = logSoftmax(referenceLogits);
  const candidate = logSoftmax(candidateLogits);
  let kl = 0;
  for (let index = 0; index < reference.length; index++) {
    const logP = reference[index]!;
    kl += Math.exp(logP) * (logP - candidate[index]!);
  }
  const referenceTop = argmax(referenceLogits);
  const candidateTop = argmax(candidateLogits);
  // Rounding can make a KL of identical rows a tiny negative number.
  return { kl: Math.max(0, kl), topOneAgrees: referenceTop === candidateTop, referenceTop, candidateTop };
}
