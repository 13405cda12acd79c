import type { Gemma3nConfig } from '@gemma3n/core';
import type { GraphScope, OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import type { TensorSource } from '../tensor-source';
import { DEFAULT_ROW_BLOCK_BYTES, rowBlocks, tensorRowReader } from '../text/row-range-source';
import { embedTokensTensorCount, hardTokenEmbedders, type HardTokenEmbedder } from '../text/embed-tokens-graph';
import type { TextGraphBuildOptions } from '../text/text-graph-context';
import type { WeightRowReader } from '../text/weight-encoding';
import { embedderWeightNames, textWeightNames } from '../text/text-weight-names';
import { hardTokenTable } from './hard-token-tables';

/**
 * `embed_tokens.onnx` of the optimized profile, the compat graph's contract and values:
 * `input_ids` → `inputs_embeds` [B, S, D], `per_layer_inputs` [B, S, L, P]. Two Gathers and
 * nothing per token:
 * - one [V, D] table whose text rows are `embed_tokens · √D` (the product rounded to float32, as
 *   the compat graph's Mul does) and whose vision/audio hard-token rows hold their embedders'
 *   precomputed outputs (hard-token-tables.ts) — the released export runs both embedders'
 *   norms and projections on every token and selects with Where;
 * - the PLE table pre-scaled by √P, gathered with ids ≥ vocab_size_per_layer_input mapped to 0.
 */
export async function buildFusedEmbedTokensGraph(
  config: Gemma3nConfig,
  weights: TensorSource,
  graph: OnnxGraphBuilder,
  options: TextGraphBuildOptions = {},
): Promise<void> {
  const text = config.text;
  const names = textWeightNames(weights);
  const ranges = hardTokenEmbedders(config);
  const total = embedTokensTensorCount(config);
  let done = 0;
  const counted = <T>(value: T): T => {
    done++;
    options.onProgress?.({ stage: 'embed_tokens', done, total });
    return value;
  };
  const hidden = text.hiddenSize;
  const vocab = text.vocabSize;

  const hardTables: { range: HardTokenEmbedder; table: Float32Array }[] = [];
  for (const range of ranges) {
    if (range.vocabOffset < 0 || range.vocabOffset + range.vocabSize > vocab) {
      throw new Error(`${range.kind} hard tokens [${range.vocabOffset}, ${range.vocabOffset + range.vocabSize}) fall outside the ${vocab}-row token table`);
    }
    const embedderNames = embedderWeightNames(range.kind);
    const read = async (name: string, shape: number[]) => counted(await readChecked(weights, name, shape));
    const table = hardTokenTable({
      embedding: await read(embedderNames.embedding, [range.vocabSize, range.hiddenSize]),
      hardEmbeddingNorm: await read(embedderNames.hardEmbeddingNorm, [range.hiddenSize]),
      embeddingProjection: await read(embedderNames.embeddingProjection, [hidden, range.hiddenSize]),
      vocab: range.vocabSize,
      embedderHidden: range.hiddenSize,
      hidden,
      epsilon: range.rmsNormEps,
    });
    hardTables.push({ range, table });
  }

  const inputIds = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const tokens = graph.scope('/embed_tokens');
  const scaleText = Math.fround(Math.sqrt(hidden));
  const tokenRows = scaledRowReader(weights, names.embedTokens, vocab, hidden, scaleText, (first, block) => {
    // Hard-token rows replace the text rows (× √D is not applied to them, as in HF).
    for (const { range, table: hardTable } of hardTables) {
      const start = Math.max(first, range.vocabOffset);
      const end = Math.min(first + block.length / hidden, range.vocabOffset + range.vocabSize);
      for (let row = start; row < end; row++) {
        block.set(hardTable.subarray((row - range.vocabOffset) * hidden, (row - range.vocabOffset + 1) * hidden), (row - first) * hidden);
      }
    }
  });
  const embeddings = counted(await gatherScaledTable(tokens, 'scaled_weight_with_hard_tokens', { rows: vocab, columns: hidden, readRows: tokenRows }, inputIds, options));
  graph.output(embeddings, 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', hidden]);

  const perLayer = graph.scope('/embed_tokens_per_layer');
  const perLayerWidth = text.numHiddenLayers * text.hiddenSizePerLayerInput;
  const perLayerRows = text.vocabSizePerLayerInput;
  const perLayerReader = scaledRowReader(weights, names.embedTokensPerLayer, perLayerRows, perLayerWidth, Math.fround(Math.sqrt(text.hiddenSizePerLayerInput)));
  const atLeastZero = perLayer.op('GreaterOrEqual', [inputIds, perLayer.int64([0], [])], { name: 'AtLeastZero' });
  const belowTable = perLayer.op('Less', [inputIds, perLayer.int64([perLayerRows], [])], { name: 'BelowTable' });
  const inRange = perLayer.op('And', [atLeastZero, belowTable], { name: 'InRange' });
  const perLayerIds = perLayer.op('Where', [inRange, inputIds, perLayer.int64([0], [])], { name: 'ClampIds' });
  const perLayerTable = { rows: perLayerRows, columns: perLayerWidth, readRows: perLayerReader };
  const rows = counted(await gatherScaledTable(perLayer, 'scaled_weight', perLayerTable, perLayerIds, options));
  const perLayerInputs = perLayer.op('Reshape', [rows, perLayer.int64([0, 0, text.numHiddenLayers, text.hiddenSizePerLayerInput])]);
  graph.output(perLayerInputs, 'per_layer_inputs', 'float32', ['batch_size', 'sequence_length', text.numHiddenLayers, text.hiddenSizePerLayerInput]);
}

async function readChecked(weights: TensorSource, name: string, shape: number[]): Promise<Float32Array> {
  if (!weights.has(name)) throw new Error(`checkpoint tensor ${name} is missing (expected shape [${shape.join(', ')}])`);
  const actual = weights.info(name).shape;
  if (actual.length !== shape.length || actual.some((dim, index) => dim !== shape[index])) {
    throw new Error(`checkpoint tensor ${name} has shape [${actual.join(', ')}], but the config implies [${shape.join(', ')}]`);
  }
  return weights.read(name);
}

/**
 * Rows of a [rows, columns] checkpoint table times `scale` (each product rounded to float32,
 * which is what an fp32 Mul node computes): through `readRows` when the source has it (an
 * 8 GB PLE table is never held whole), else from one whole read. `edit` may change a block in
 * place before it is returned.
 */
function scaledRowReader(
  weights: TensorSource,
  name: string,
  rows: number,
  columns: number,
  scale: number,
  edit?: (firstRow: number, block: Float32Array) => void,
): WeightRowReader {
  const actual = weights.has(name) ? weights.info(name).shape : null;
  if (!actual || actual.length !== 2 || actual[0] !== rows || actual[1] !== columns) {
    throw new Error(`checkpoint tensor ${name} has shape [${actual?.join(', ') ?? 'missing'}], but the config implies [${rows}, ${columns}]`);
  }
  const readRows = tensorRowReader(weights, name, columns);
  return async (first, count) => {
    const source = await readRows(first, count);
    const block = new Float32Array(count * columns);
    for (let index = 0; index < block.length; index++) block[index] = source[index]! * scale;
    edit?.(first, block);
    return block;
  };
}

/**
 * `table[indices]` of a [rows, columns] table given by `readRows`: through the weight encoding
 * when it takes the table, else as one float32 initializer and a Gather.
 */
async function gatherScaledTable(
  scope: GraphScope,
  initializerName: string,
  table: { rows: number; columns: number; readRows: WeightRowReader },
  indices: string,
  options: TextGraphBuildOptions,
): Promise<string> {
  const encoded = await options.weightEncoding?.gather?.({ scope, name: 'Gather', indices, ...table });
  if (encoded !== undefined && encoded !== null) return encoded;
  const initializer = await scope.initializer(initializerName, 'float32', [table.rows, table.columns], {
    byteLength: table.rows * table.columns * 4,
    chunks: rowBlocks(table.readRows, table.rows, table.columns, options.rowBlockBytes ?? DEFAULT_ROW_BLOCK_BYTES),
  });
  return scope.op('Gather', [initializer, indices], { attributes: { axis: 0 } });
}
