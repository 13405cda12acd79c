/**
 * Reproducible evaluation prompts: `<bos>` (id 2) followed by ids drawn uniformly from
 * [5, vocabulary), skipping the special ids 0–4. For random-weight tiny models any ids are as
 * good as text. Pure code, safe in browsers.
 */
export function seededPrompts(params: { count: number; length: number; vocabulary: number; seed: number }): number[][] {
  let state = params.seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  return Array.from({ length: params.count }, () => [2, ...Array.from({ length: params.length - 1 }, () => 5 + (next() % (params.vocabulary - 5)))]);
}
