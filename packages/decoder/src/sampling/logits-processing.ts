/**
 * In-place transforms of a logits row, before candidates are chosen. Pure typed-array
 * functions: no tensors, no sessions, so each is tested alone against hand-computed values.
 */

/**
 * Sets the logits of ids ≥ `firstMaskedId` to −∞. Gemma 3n's lm_head has 262400 rows but only
 * the first 262144 (vocab_size_per_layer_input) are text tokens; the rest are vision/audio ids
 * whose rows copy the pad row in released weights, and must never be sampled.
 */
export function maskTokensFrom(logits: Float32Array, firstMaskedId: number): void {
  if (firstMaskedId < logits.length) logits.fill(Number.NEGATIVE_INFINITY, Math.max(0, firstMaskedId));
}

/**
 * The repetition penalty of Keskar et al. as Hugging Face applies it
 * (`RepetitionPenaltyLogitsProcessor`): for every distinct id already in the sequence, a
 * positive logit is divided by `penalty` and a negative one multiplied by it, so `penalty > 1`
 * always makes the token less likely. Each id is penalised once, however often it occurred.
 */
export function applyRepetitionPenalty(
  logits: Float32Array,
  previousTokenIds: ArrayLike<number>,
  penalty: number,
): void {
  if (penalty === 1) return;
  const seen = new Set<number>();
  for (let index = 0; index < previousTokenIds.length; index++) {
    const tokenId = previousTokenIds[index]!;
    if (tokenId < 0 || tokenId >= logits.length || seen.has(tokenId)) continue;
    seen.add(tokenId);
    const value = logits[tokenId]!;
    logits[tokenId] = value < 0 ? value * penalty : value / penalty;
  }
}

/** Divides every logit by `temperature` (> 0). */
export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let index = 0; index < logits.length; index++) logits[index] = logits[index]! / temperature;
}

/**
 * Index of the largest logit; the lowest index wins a tie (as `torch.argmax` does). Returns −1
 * when every logit is −∞ or NaN.
 */
export function argmax(logits: ArrayLike<number>): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (value > bestValue) {
      bestValue = value;
      best = index;
    }
  }
  return best;
}
