/**
 * Test-only helpers (not exported): tiny embed graphs — our fp32 export, and hand-built
 * quantized forms — run through onnxruntime-node as the oracle for PerLayerTableReader.
 * The converter's PLE writers are imported by path until @gemma3n/convert exports them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-common';
import { parseGemma3nConfig, type Gemma3nConfig } from '@gemma3n/core';
import { createNodeBackend } from '@gemma3n/backend-node';
import { randomCheckpointWeights, TINY_TEXT_SHAPES, type InMemoryTensorSource } from '@gemma3n/convert';
import { buildEmbedTokensGraph } from '../../../convert/src/text/embed-tokens-graph';
import { writeOnnxModel } from '../../../convert/src/onnx/onnx-model-file';
import type { OnnxGraphBuilder } from '../../../convert/src/onnx/onnx-graph-builder';

export const SHAPE = 'tiny-window-4';
export const RAW_CONFIG = TINY_TEXT_SHAPES[SHAPE] as Record<string, unknown>;
export const CONFIG: Gemma3nConfig = parseGemma3nConfig(RAW_CONFIG);
/** 9 layers × 8 values: rows of 72, so blocks of 32 end in a partial block of 8. */
export const LAYERS = CONFIG.text.numHiddenLayers;
export const LAYER_WIDTH = CONFIG.text.hiddenSizePerLayerInput;
export const ROW_WIDTH = LAYERS * LAYER_WIDTH;
export const ROWS = CONFIG.text.vocabSizePerLayerInput;

const backend = createNodeBackend({ intraOpNumThreads: 1 });

export function tinyWeights(seed = 11): InMemoryTensorSource {
  return randomCheckpointWeights(RAW_CONFIG, { seed });
}

/** A folder with config.json and our fp32 `onnx/embed_tokens.onnx` of the tiny weights. */
export async function writeTinyEmbedFolder(folder: string, weights: InMemoryTensorSource): Promise<void> {
  await mkdir(join(folder, 'onnx'), { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify(RAW_CONFIG));
  await writeOnnxModel({ directory: join(folder, 'onnx'), fileName: 'embed_tokens.onnx', graphName: 'embed_tokens' }, (graph) =>
    buildEmbedTokensGraph(CONFIG, weights, graph),
  );
}

/** Runs an embed graph on `ids` (batch 1) and returns its float outputs by name. */
export async function runEmbedGraph(path: string, ids: readonly number[]): Promise<Record<string, Float32Array>> {
  const session = await backend.createSession({ type: 'path', path });
  try {
    const outputs = await session.run({ input_ids: new Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length]) });
    const result: Record<string, Float32Array> = {};
    for (const [name, tensor] of Object.entries(outputs)) result[name] = tensor.data as Float32Array;
    return result;
  } finally {
    await session.release();
  }
}

/** Hand-built quantized forms of the per-layer table (see find-per-layer-table.ts). */
export type QuantizedForm = 'block-uint8-bits8-zero-points' | 'block-uint8-bits4' | 'block-uint8-bits4-zero-points' | 'block-int4-zero-points' | 'dequantize-uint8' | 'row-scaled-int8';

export const QUANTIZED_FORMS: readonly QuantizedForm[] = [
  'block-uint8-bits8-zero-points',
  'block-uint8-bits4',
  'block-uint8-bits4-zero-points',
  'block-int4-zero-points',
  'dequantize-uint8',
  'row-scaled-int8',
];

const BLOCK = 32;
/** Token-table rows: more than the per-layer table's, so multimodal-range ids are valid there. */
export const TOKEN_ROWS = ROWS + 64;
export const TOKEN_WIDTH = 4;

/** Deterministic bytes / floats (a small LCG), so every run builds the same graphs. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomBytes(count: number, next: () => number): Uint8Array {
  return Uint8Array.from({ length: count }, () => Math.floor(next() * 256));
}

/**
 * Writes `onnx/<fileName>` with the model-folder contract's outputs: `inputs_embeds` (a small
 * float token table × 2) and `per_layer_inputs` from a per-layer table in `form`, the ids
 * clamped to row 0 outside [0, ROWS), × sqrt(P), reshaped to [B, S, L, P].
 */
export async function writeQuantizedEmbedGraph(folder: string, fileName: string, form: QuantizedForm, seed = 5): Promise<void> {
  await mkdir(join(folder, 'onnx'), { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify(RAW_CONFIG));
  const next = generator(seed);
  await writeOnnxModel(
    { directory: join(folder, 'onnx'), fileName, graphName: 'embed_tokens', extraOpsets: [{ domain: 'com.microsoft', version: 1 }] },
    async (graph) => {
      const ids = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
      const tokens = graph.scope('/embed_tokens');
      const tokenTable = await tokens.initializer('weight', 'float32', [TOKEN_ROWS, TOKEN_WIDTH], Float32Array.from({ length: TOKEN_ROWS * TOKEN_WIDTH }, () => next() - 0.5));
      const embedded = tokens.op('Mul', [tokens.op('Gather', [tokenTable, ids], { attributes: { axis: 0 } }), graph.float32(2)]);
      graph.output(embedded, 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', TOKEN_WIDTH]);

      const scope = graph.scope('/embed_tokens_per_layer');
      const atLeastZero = scope.op('GreaterOrEqual', [ids, graph.int64([0], [])]);
      const belowRows = scope.op('Less', [ids, graph.int64([ROWS], [])]);
      const clamped = scope.op('Where', [scope.op('And', [atLeastZero, belowRows]), ids, graph.int64([0], [])]);
      const rows = await perLayerRows(graph, form, clamped, next);
      const scaled = scope.op('Mul', [rows, graph.float32(Math.sqrt(LAYER_WIDTH))], { name: 'Scale' });
      const reshaped = scope.op('Reshape', [scaled, graph.int64([0, 0, LAYERS, LAYER_WIDTH])]);
      graph.output(reshaped, 'per_layer_inputs', 'float32', ['batch_size', 'sequence_length', LAYERS, LAYER_WIDTH]);
    },
  );
}

async function perLayerRows(graph: OnnxGraphBuilder, form: QuantizedForm, ids: string, next: () => number): Promise<string> {
  const scope = graph.scope('/embed_tokens_per_layer');
  const blocks = Math.ceil(ROW_WIDTH / BLOCK);
  const scales = () => Float32Array.from({ length: ROWS * blocks }, () => 0.001 + next() * 0.02);
  const blockQuantized = (inputs: string[], bits: number) =>
    scope.op('GatherBlockQuantized', inputs, { domain: 'com.microsoft', attributes: { gather_axis: 0, quantize_axis: 1, block_size: BLOCK, bits } });
  switch (form) {
    case 'block-uint8-bits8-zero-points': {
      const data = await scope.initializer('Gather_quantized', 'uint8', [ROWS, ROW_WIDTH], randomBytes(ROWS * ROW_WIDTH, next));
      const scale = await scope.initializer('scales', 'float32', [ROWS, blocks], scales());
      const zeroPoints = await scope.initializer('zero_points', 'uint8', [ROWS, blocks], randomBytes(ROWS * blocks, next));
      return blockQuantized([data, ids, scale, zeroPoints], 8);
    }
    case 'block-uint8-bits4':
    case 'block-uint8-bits4-zero-points': {
      const data = await scope.initializer('Gather_Q4', 'uint8', [ROWS, ROW_WIDTH / 2], randomBytes((ROWS * ROW_WIDTH) / 2, next));
      const scale = await scope.initializer('scales', 'float32', [ROWS, blocks], scales());
      if (form === 'block-uint8-bits4') return blockQuantized([data, ids, scale], 4);
      const zeroPoints = await scope.initializer('zero_points', 'uint8', [ROWS, Math.ceil(blocks / 2)], randomBytes(ROWS * Math.ceil(blocks / 2), next));
      return blockQuantized([data, ids, scale, zeroPoints], 4);
    }
    case 'block-int4-zero-points': {
      // int4 tensors (type 22) are not a builder element type; their TensorProto is added directly.
      const dataName = '/embed_tokens_per_layer/Gather_int4';
      const zeroPointName = '/embed_tokens_per_layer/zero_points_int4';
      graph.initializers.push({ name: dataName, dataType: 22, dims: [ROWS, ROW_WIDTH], rawData: randomBytes((ROWS * ROW_WIDTH) / 2, next) });
      // [rows, 3] int4 zero points: packed over the flattened index, so rows share bytes.
      graph.initializers.push({ name: zeroPointName, dataType: 22, dims: [ROWS, blocks], rawData: randomBytes(Math.ceil((ROWS * blocks) / 2), next) });
      const scale = await scope.initializer('scales', 'float32', [ROWS, blocks], scales());
      return blockQuantized([dataName, ids, scale, zeroPointName], 4);
    }
    case 'dequantize-uint8': {
      const data = await scope.initializer('weight_quantized', 'uint8', [ROWS, ROW_WIDTH], randomBytes(ROWS * ROW_WIDTH, next));
      const gathered = scope.op('Gather', [data, ids], { attributes: { axis: 0 } });
      const scale = await scope.initializer('weight_scale', 'float32', [], Float32Array.of(0.0123));
      const zeroPoint = await scope.initializer('weight_zero_point', 'uint8', [], Uint8Array.of(131));
      return scope.op('DequantizeLinear', [gathered, scale, zeroPoint]);
    }
    case 'row-scaled-int8': {
      const data = await scope.initializer('weight_int8', 'int8', [ROWS, ROW_WIDTH], new Int8Array(randomBytes(ROWS * ROW_WIDTH, next).buffer));
      const rowScales = await scope.initializer('weight_scales', 'float32', [ROWS], Float32Array.from({ length: ROWS }, () => 0.001 + next() * 0.01));
      const rowsAsFloat = scope.op('Cast', [scope.op('Gather', [data, ids], { attributes: { axis: 0 } })], { attributes: { to: 1 } });
      const gatheredScales = scope.op('Unsqueeze', [scope.op('Gather', [rowScales, ids], { attributes: { axis: 0 } }), graph.int64([-1])]);
      return scope.op('Mul', [rowsAsFloat, gatheredScales], { name: 'Dequantize' });
    }
  }
}

export function maxAbsDifference(left: Float32Array, right: Float32Array): number {
  if (left.length !== right.length) throw new Error(`lengths differ: ${left.length} vs ${right.length}`);
  let max = 0;
  for (let index = 0; index < left.length; index++) max = Math.max(max, Math.abs(left[index]! - right[index]!));
  return max;
}
