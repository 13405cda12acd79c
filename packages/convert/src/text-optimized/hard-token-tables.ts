/**
 * The hard-token path of a multimodal embedder (embed_vision / embed_audio, §1.3 step 2) is a
 * pure function of the token id:
 *   `RMSNorm_noscale(embedding_projection(RMSNorm_hard(embedding[id − offset])))`.
 * So its whole output table [vocab, D] (128 × 2048 for the released models) is computed once at
 * conversion time, in float64, stored as float32, and the graph only gathers rows from it.
 */
export interface HardTokenWeights {
  /** [vocab, embedderHidden] */
  embedding: Float32Array;
  /** [embedderHidden] */
  hardEmbeddingNorm: Float32Array;
  /** Hugging Face Linear weight [D, embedderHidden]. */
  embeddingProjection: Float32Array;
  vocab: number;
  embedderHidden: number;
  hidden: number;
  epsilon: number;
}

export function hardTokenTable(weights: HardTokenWeights): Float32Array {
  const { embedding, hardEmbeddingNorm, embeddingProjection, vocab, embedderHidden, hidden, epsilon } = weights;
  const table = new Float32Array(vocab * hidden);
  const normed = new Float64Array(embedderHidden);
  const projected = new Float64Array(hidden);
  for (let row = 0; row < vocab; row++) {
    let squares = 0;
    for (let index = 0; index < embedderHidden; index++) squares += embedding[row * embedderHidden + index]! ** 2;
    const root = Math.sqrt(squares / embedderHidden + epsilon);
    for (let index = 0; index < embedderHidden; index++) normed[index] = (embedding[row * embedderHidden + index]! / root) * hardEmbeddingNorm[index]!;
    let projectedSquares = 0;
    for (let out = 0; out < hidden; out++) {
      let sum = 0;
      const weightRow = out * embedderHidden;
      for (let index = 0; index < embedderHidden; index++) sum += embeddingProjection[weightRow + index]! * normed[index]!;
      projected[out] = sum;
      projectedSquares += sum * sum;
    }
    const projectedRoot = Math.sqrt(projectedSquares / hidden + epsilon);
    for (let out = 0; out < hidden; out++) table[row * hidden + out] = projected[out]! / projectedRoot;
  }
  return table;
}
