import type { Gemma3nConfig } from '@gemma3n/core';
import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import type { TensorSource } from '../tensor-source';
import { rmsNorm, TextGraphContext, type TextGraphBuildOptions } from './text-graph-context';
import { embedderWeightNames, textWeightNames } from './text-weight-names';

/** A vision or audio embedder's hard-token range of the token ids. */
export interface HardTokenEmbedder {
  kind: 'vision' | 'audio';
  vocabOffset: number;
  vocabSize: number;
  hiddenSize: number;
  rmsNormEps: number;
}

export function hardTokenEmbedders(config: Gemma3nConfig): HardTokenEmbedder[] {
  const embedders: HardTokenEmbedder[] = [];
  if (config.vision) embedders.push({ kind: 'vision', ...config.vision });
  if (config.audio) embedders.push({ kind: 'audio', ...config.audio });
  return embedders;
}

/** How many checkpoint tensors `buildEmbedTokensGraph` reads (for progress totals). */
export function embedTokensTensorCount(config: Gemma3nConfig): number {
  return 2 + 3 * hardTokenEmbedders(config).length;
}

/**
 * `embed_tokens.onnx` (model-folder contract): `input_ids` int64 [batch_size, sequence_length]
 * → `inputs_embeds` [B, S, D] and `per_layer_inputs` [B, S, L, P].
 *
 * - text ids: `embed_tokens[id] · sqrt(D)`;
 * - vision / audio hard tokens (`[vocabOffset, vocabOffset + vocabSize)` of each embedder):
 *   `RMSNorm_noscale(projection(RMSNorm_hard(embedding[id − offset])))`, not scaled by sqrt(D),
 *   replacing the text row (computed for every position and selected with Where, as in HF);
 * - per-layer inputs: `embed_tokens_per_layer[id'] · sqrt(P)` with id' = id when
 *   0 ≤ id < vocab_size_per_layer_input, else 0.
 *
 * Memory: the full-size tables are the biggest tensors of the model (262400 × 2048 and
 * 262144 × L·P floats, 2.1 GB and 8 GB at fp32 for E2B); each is streamed to external data in
 * row blocks when the source has `readRows`, else read whole once.
 */
export async function buildEmbedTokensGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  graph: OnnxGraphBuilder,
  options: TextGraphBuildOptions = {},
): Promise<void> {
  const text = config.text;
  const names = textWeightNames(weights);
  const context = TextGraphContext.create(graph, weights, 'embed_tokens', embedTokensTensorCount(config), options);
  const hidden = text.hiddenSize;
  const perLayerWidth = text.numHiddenLayers * text.hiddenSizePerLayerInput;

  const inputIds = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);

  const tokens = graph.scope('/embed_tokens');
  const gathered = await context.gather(tokens, 'weight', names.embedTokens, text.vocabSize, hidden, inputIds);
  let embeddings = tokens.op('Mul', [gathered, tokens.float32(Math.sqrt(hidden))], { name: 'Scale' });

  for (const embedder of hardTokenEmbedders(config)) {
    embeddings = await mergeHardTokens(context, graph.scope(`/embed_${embedder.kind}`), embedder, inputIds, embeddings, hidden);
  }
  graph.output(embeddings, 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', hidden]);

  const perLayer = graph.scope('/embed_tokens_per_layer');
  const inRange = idsInRange(perLayer, inputIds, 0, text.vocabSizePerLayerInput);
  const perLayerIds = perLayer.op('Where', [inRange, inputIds, perLayer.int64([0], [])], { name: 'ClampIds' });
  const rows = await context.gather(perLayer, 'weight', names.embedTokensPerLayer, text.vocabSizePerLayerInput, perLayerWidth, perLayerIds);
  const scaledRows = perLayer.op('Mul', [rows, perLayer.float32(Math.sqrt(text.hiddenSizePerLayerInput))], { name: 'Scale' });
  const perLayerInputs = perLayer.op('Reshape', [scaledRows, perLayer.int64([0, 0, text.numHiddenLayers, text.hiddenSizePerLayerInput])]);
  graph.output(perLayerInputs, 'per_layer_inputs', 'float32', [
    'batch_size',
    'sequence_length',
    text.numHiddenLayers,
    text.hiddenSizePerLayerInput,
  ]);
}

/** Bool mask of `low ≤ id < high`. */
function idsInRange(scope: GraphScope, ids: string, low: number, high: number): string {
  const atLeastLow = scope.op('GreaterOrEqual', [ids, scope.int64([low], [])], { name: 'AtLeastLow' });
  const belowHigh = scope.op('Less', [ids, scope.int64([high], [])], { name: 'BelowHigh' });
  return scope.op('And', [atLeastLow, belowHigh], { name: 'InRange' });
}

async function mergeHardTokens(
  context: TextGraphContext,
  scope: GraphScope,
  embedder: HardTokenEmbedder,
  inputIds: string,
  textEmbeddings: string,
  hidden: number,
): Promise<string> {
  const names = embedderWeightNames(embedder.kind);
  const isHardToken = idsInRange(scope, inputIds, embedder.vocabOffset, embedder.vocabOffset + embedder.vocabSize);
  // Other positions look up the embedder's last row (as HF does) and are discarded by Where.
  const lastRow = scope.int64([embedder.vocabSize - 1], []);
  const shifted = scope.op('Sub', [inputIds, scope.int64([embedder.vocabOffset], [])], { name: 'SubtractOffset' });
  const rowIds = scope.op('Where', [isHardToken, shifted, lastRow], { name: 'RowIds' });
  const table = await context.table(scope, 'embedding', names.embedding, embedder.vocabSize, embedder.hiddenSize);
  const rows = scope.op('Gather', [table, rowIds], { attributes: { axis: 0 } });
  const normWeight = await context.vector(scope, 'hard_embedding_norm/weight', names.hardEmbeddingNorm, embedder.hiddenSize);
  const normalized = rmsNorm(scope, 'hard_embedding_norm', rows, normWeight, embedder.rmsNormEps);
  const projected = await context.linear(scope, 'embedding_projection', normalized, names.embeddingProjection, embedder.hiddenSize, hidden);
  const embedded = rmsNorm(scope, 'embedding_post_projection_norm', projected, null, embedder.rmsNormEps);
  const selector = scope.op('Unsqueeze', [isHardToken, scope.int64([-1])], { name: 'MaskLastAxis' });
  return scope.op('Where', [selector, embedded, textEmbeddings], { name: 'Merge' });
}
