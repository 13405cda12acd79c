/**
 * Choosing the tokens that may be sampled: top-k, then top-p (nucleus), then min-p, with the
 * semantics of Hugging Face's `TopKLogitsWarper`, `TopPLogitsWarper` and `MinPLogitsWarper`
 * applied in that order. Instead of filling removed logits with −∞ and sorting the whole
 * 262k-entry vocabulary at every step, each filter becomes a cut-off logit value found with
 * linear passes (a k-sized heap for top-k; a growing window below the maximum for top-p), and
 * only the survivors are sorted. Tokens tied exactly at a cut-off are all kept (HF keeps top-k
 * ties too; for top-p it would keep an arbitrary subset of them).
 */

/**
 * The tokens that survived filtering, sorted by descending logit (ties: lower id first) —
 * except a large unfiltered set, which stays in id order (the distribution is the same and
 * sorting 262k entries per token would cost more than the model step).
 */
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

/** Above this many survivors the candidates are left in id order. */
const largestSortedSet = 4096;

/** Logit value at or above which a token survives every filter; −∞ keeps every finite logit. */
export function candidateCutoff(logits: Float32Array, params: CandidateFilterParams): number {
  let max = Number.NEGATIVE_INFINITY;
  let finiteCount = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (!Number.isFinite(value)) continue;
    finiteCount++;
    if (value > max) max = value;
  }
  if (finiteCount === 0) return Number.POSITIVE_INFINITY;

  let cutoff = params.topK > 0 && params.topK < finiteCount ? kthLargest(logits, params.topK) : Number.NEGATIVE_INFINITY;
  if (params.topP < 1) cutoff = Math.max(cutoff, topPCutoff(logits, max, cutoff, params.topP));
  // p / p_max ≥ min_p  ⟺  logit − max ≥ ln(min_p); the normalisation cancels out.
  if (params.minP > 0) cutoff = Math.max(cutoff, max + Math.log(params.minP));
  return cutoff;
}

/** The surviving tokens, ready for {@link drawCandidate}. */
export function selectCandidates(logits: Float32Array, params: CandidateFilterParams): Candidates {
  const cutoff = candidateCutoff(logits, params);
  let count = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (value >= cutoff && Number.isFinite(value)) count++;
  }
  let ids = new Int32Array(count);
  let position = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (value >= cutoff && Number.isFinite(value)) ids[position++] = index;
  }
  if (count <= largestSortedSet) ids = Int32Array.from([...ids].sort((left, right) => logits[right]! - logits[left]! || left - right));
  const keptLogits = new Float64Array(count);
  for (let index = 0; index < count; index++) keptLogits[index] = logits[ids[index]!]!;
  return { ids, logits: keptLogits };
}

/** Softmax of the candidates' logits, in float64. */
export function candidateProbabilities(candidates: Candidates): Float64Array {
  const probabilities = new Float64Array(candidates.logits.length);
  if (probabilities.length === 0) return probabilities;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of candidates.logits) if (value > max) max = value;
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
 * [0, 1), by walking the cumulative distribution in the candidates' order.
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

/**
 * Draws from the softmax of all finite logits without building candidates: the fast path
 * when no filter is active. Walks in id order.
 */
export function drawFromLogits(logits: Float32Array, unit: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < logits.length; index++) if (logits[index]! > max) max = logits[index]!;
  if (max === Number.NEGATIVE_INFINITY || Number.isNaN(max)) return -1;
  let total = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (Number.isFinite(value)) total += Math.exp(value - max);
  }
  let remaining = unit * total;
  let last = -1;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (!Number.isFinite(value)) continue;
    last = index;
    remaining -= Math.exp(value - max);
    if (remaining < 0) return index;
  }
  return last;
}

/** The k-th largest finite logit (duplicates counted), with a k-sized min-heap: O(n log k). */
function kthLargest(logits: Float32Array, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (!Number.isFinite(value)) continue;
    if (size < k) {
      let position = size++;
      heap[position] = value;
      while (position > 0) {
        const parent = (position - 1) >> 1;
        if (heap[parent]! <= heap[position]!) break;
        [heap[parent], heap[position]] = [heap[position]!, heap[parent]!];
        position = parent;
      }
    } else if (value > heap[0]!) {
      heap[0] = value;
      let position = 0;
      for (;;) {
        const left = 2 * position + 1;
        const right = left + 1;
        let smallest = position;
        if (left < k && heap[left]! < heap[smallest]!) smallest = left;
        if (right < k && heap[right]! < heap[smallest]!) smallest = right;
        if (smallest === position) break;
        [heap[smallest], heap[position]] = [heap[position]!, heap[smallest]!];
        position = smallest;
      }
    }
  }
  return heap[0]!;
}

/**
 * The top-p cut-off among tokens at or above `floor`: a token is kept while the probability
 * of the strictly more likely tokens is below top_p (HF's "ascending cumulative probability
 * > 1 − top_p", read from the other end). The nucleus is found in a window [max − width, max]
 * whose width doubles until the window holds top_p of the mass; only the window is sorted.
 */
function topPCutoff(logits: Float32Array, max: number, floor: number, topP: number): number {
  let total = 0;
  for (let index = 0; index < logits.length; index++) {
    const value = logits[index]!;
    if (value >= floor && Number.isFinite(value)) total += Math.exp(value - max);
  }
  const target = topP * total;
  for (let width = 1; ; width *= 2) {
    const lower = Math.max(floor, max - width);
    const window: number[] = [];
    let mass = 0;
    for (let index = 0; index < logits.length; index++) {
      const value = logits[index]!;
      if (value >= lower && Number.isFinite(value)) {
        window.push(value);
        mass += Math.exp(value - max);
      }
    }
    // The window holds every token above `lower`, so its sorted prefix is the global one.
    if (mass < target && lower > floor && width < 1e6) continue;
    const sorted = Float64Array.from(window).sort(); // ascending, native numeric sort
    let before = 0;
    let cutoff = sorted[sorted.length - 1]!;
    for (let position = sorted.length - 1; position >= 0; position--) {
      if (position < sorted.length - 1 && before >= target) break;
      cutoff = sorted[position]!;
      before += Math.exp(sorted[position]! - max);
    }
    return cutoff;
  }
}
