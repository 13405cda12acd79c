/**
 * Choosing the tokens that may be sampled: top-k, then top-p (nucleus), then min-p, with the
 * semantics of Hugging Face's `TopKLogitsWarper`, `TopPLogitsWarper` and `MinPLogitsWarper`
 * applied in that order. Instead of filling removed logits with −∞ and sorting the whole
 * vocabulary by index, each filter is turned into a cut-off logit value, which needs only one
 * native numeric sort of the (finite) logits; the survivors are then collected and sorted.
 * Tokens tied exactly at a cut-off are all kept (HF keeps top-k ties too; for top-p it would
 * keep an arbitrary subset of them).
 */

/** The tokens that survived filtering, sorted by descending logit (ties: lower id first). */
export interface Candidates {
  ids: Int32Array;
  logits: Float64Array;
}

export interface CandidateFilterParams {
  /** Keep the `topK` largest logits; 0 keeps all. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability sum reaches `topP`; 1 keeps all. */
  topP: number;
  /** Drop tokens whose probability is below `minP` times the top probability; 0 keeps all. */
  minP: number;
}

/** Logit value at or above which a token survives every filter; −∞ keeps every finite logit. */
export function candidateCutoff(logits: Float32Array, params: CandidateFilterParams): number {
  const finite = finiteSortedAscending(logits);
  const count = finite.length;
  if (count === 0) return Number.POSITIVE_INFINITY;
  const max = finite[count - 1]!;

  const topKCut = params.topK > 0 && params.topK < count ? finite[count - params.topK]! : Number.NEGATIVE_INFINITY;

  let topPCut = Number.NEGATIVE_INFINITY;
  if (params.topP < 1) {
    // Probabilities are taken over the top-k survivors, as HF's top-p sees the top-k output.
    let total = 0;
    for (let index = count - 1; index >= 0 && finite[index]! >= topKCut; index--) total += Math.exp(finite[index]! - max);
    // A token is kept while the probability of the strictly more likely tokens is below top_p:
    // HF's "ascending cumulative probability > 1 − top_p", read from the other end.
    let before = 0;
    for (let index = count - 1; index >= 0 && finite[index]! >= topKCut; index--) {
      if (index < count - 1 && before >= params.topP * total) break;
      topPCut = finite[index]!;
      before += Math.exp(finite[index]! - max);
    }
  }

  // p / p_max ≥ min_p  ⟺  logit − max ≥ ln(min_p); the normalisation cancels out.
  const minPCut = params.minP > 0 ? max + Math.log(params.minP) : Number.NEGATIVE_INFINITY;
  return Math.max(topKCut, topPCut, minPCut);
}

/** The surviving tokens, sorted, ready for {@link drawCandidate}. */
export function selectCandidates(logits: Float32Array, params: CandidateFilterParams): Candidates {
  const cutoff = candidateCutoff(logits, params);
  const kept: number[] = [];
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (value >= cutoff && Number.isFinite(value)) kept.push(index);
  }
  kept.sort((left, right) => logits[right]! - logits[left]! || left - right);
  const ids = Int32Array.from(kept);
  const keptLogits = Float64Array.from(kept, (index) => logits[index]!);
  return { ids, logits: keptLogits };
}

/** Softmax of the candidates' logits, in float64. */
export function candidateProbabilities(candidates: Candidates): Float64Array {
  const probabilities = new Float64Array(candidates.logits.length);
  if (probabilities.length === 0) return probabilities;
  const max = candidates.logits[0]!;
  let total = 0;
  for (let index = 0; index < probabilities.length; index++) {
    const weight = Math.exp(candidates.logits[index]! - max);
    probabilities[index] = weight;
    total += weight;
  }
  for (let index = 0; index < probabilities.length; index++) probabilities[index] = probabilities[index]! / total;
  return probabilities;
}

/**
 * Draws one candidate with probability proportional to exp(logit), given a uniform `unit` in
 * [0, 1). The walk goes from the most likely token, so rounding can only favour it.
 */
export function drawCandidate(candidates: Candidates, unit: number): number {
  const probabilities = candidateProbabilities(candidates);
  let remaining = unit;
  for (let index = 0; index < probabilities.length; index++) {
    remaining -= probabilities[index]!;
    if (remaining < 0) return candidates.ids[index]!;
  }
  return candidates.ids[probabilities.length - 1] ?? -1;
}

function finiteSortedAscending(logits: Float32Array): Float64Array {
  let count = 0;
  for (let index = 0; index < logits.length; index++) if (Number.isFinite(logits[index]!)) count++;
  const finite = new Float64Array(count);
  let position = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (Number.isFinite(value)) finite[position++] = value;
  }
  return finite.sort();
}
