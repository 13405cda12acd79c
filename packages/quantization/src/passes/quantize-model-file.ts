import { InputError } from '@gemma3n/core';
import { checkBlockSize } from '../blockwise-4bit';
import { roundToFloat16 } from '../float16';
import type { QuantizationDtype } from '../quantization-dtypes';
import { DEFAULT_MAX_DATA_FILE_BYTES, ExternalDataOutput, modelWithHeaderOf } from '../onnx/external-data-output';
import { bytesOf, DATA_TYPE, inlineTensor, MICROSOFT_DOMAIN } from '../onnx/onnx-nodes';
import { dimsOf, OnnxModelReader } from '../onnx/onnx-model-reader';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { dynamicQuantizeMatMulNode, gatherBlockQuantizedNode, int8GatherNodes, matMulNBitsNode } from '../onnx/quantized-nodes';
import {
  emulateQuantizedWeight,
  quantizeMatMulWeightInt8,
  quantizeMatMulWeightQ4,
  quantizeTableInt8,
  quantizeTableQ4,
  quantizeTransposedWeightInt8,
  quantizeTransposedWeightQ4,
  type QuantizedInitializers,
  type WeightQuantizerContext,
} from './weight-quantizers';
import { type Plan, type PlanKind, planGraph, type SkippedNodeReport } from './quantization-plan';

export type { SkippedNodeReport } from './quantization-plan';

export interface QuantizeModelOptions {
  /** fp16 has its own pass, `convertModelFileToFloat16`; q4f16 is q4 (with float16 scales) followed by it. */
  dtype: 'q4' | 'q8';
  /** Quantize against scales rounded to float16, for a q4 file whose scales become float16 (q4f16). */
  float16Scales?: boolean;
  /** q4 block size along K / along table rows (default 32: the one every WebGPU build runs correctly). */
  blockSize?: number;
  /** q4 with zero point 8 and no zero-point tensors (default false: a zero point per block). */
  symmetric?: boolean;
  /** MatMulNBits accuracy_level (default 4: int8 activations, 2.3–2.7× faster on node CPU; wasm ignores it). */
  accuracyLevel?: number;
  /** Weights and tables with a side shorter than this stay float (default 16). */
  minimumDimension?: number;
  /** Quantize Gather tables (embeddings) too (default true). */
  quantizeTables?: boolean;
  onProgress?: (event: QuantizeProgress) => void;
  maxExternalDataFileBytes?: number;
  /** Initializers smaller than this are stored inline (default 1 KiB). */
  externalDataThresholdBytes?: number;
  /** Bytes of fp32 source read at a time (default 16 MiB). */
  chunkBytes?: number;
  /**
   * Diagnostics: keep the float ops and write `dequantize(quantize(W))` as their fp32 weights
   * (each weight is held whole in memory). Output names keep the dtype suffix.
   */
  emulate?: boolean;
}

export interface QuantizeProgress {
  file: string;
  /** The initializer just quantized. */
  tensor: string;
  done: number;
  total: number;
}

export interface QuantizedTensorReport {
  name: string;
  /** `gemm`: the B [N, K] of a `Gemm(transB=1)`, such as the optimized profile's tied lm_head. */
  kind: PlanKind;
  /** The fp32 shape as stored: [K, N] for a MatMul weight, [N, K] for a Gemm(transB=1) weight, [rows, columns] for a table. */
  shape: [number, number];
  op: string;
}

export interface QuantizeModelResult {
  /** Written files, relative to the output directory (model first). */
  files: string[];
  tensors: QuantizedTensorReport[];
  /** Nodes on a quantizable weight that were left float, with the reason (e.g. a Gemm with transB=0). */
  skipped: SkippedNodeReport[];
}

/** Ops whose presence means the graph was already quantized. */
const QUANTIZED_OPS = new Set(['MatMulNBits', 'GatherBlockQuantized', 'DynamicQuantizeMatMul', 'MatMulInteger', 'QLinearMatMul', 'DequantizeLinear', 'MatMulBnb4']);

/**
 * Writes a quantized copy of one `.onnx` file (`inputPath`, with its external data) as
 * `outputDirectory/outputFileName` plus `<outputFileName>_data…`:
 *
 * - MatMul whose B is a 2-D float32 initializer [K, N] → MatMulNBits (q4) or
 *   DynamicQuantizeMatMul (q8). The tied lm_head of our compat decoder is such a MatMul (the
 *   embedding table transposed to [D, V]), so it is quantized like any other weight.
 * - Gemm(A, B, transB=1) with B a 2-D float32 initializer [N, K], no C, alpha 1 (the optimized
 *   profile's lm_head on the [V, D] table) → the same ops with the same output [M, N]; other
 *   Gemms on such weights stay float and are listed in `skipped` (quantization-plan.ts).
 * - Gather (axis 0) on a 2-D float32 table → GatherBlockQuantized (q4) or int8 rows with
 *   per-row scales (q8).
 *
 * Every other initializer is copied unchanged, streamed chunk by chunk. Only one weight's
 * quantized form and one chunk of its fp32 source are in memory at a time.
 */
export async function quantizeModelFile(
  inputPath: string,
  outputDirectory: string,
  outputFileName: string,
  options: QuantizeModelOptions,
): Promise<QuantizeModelResult> {
  const blockSize = options.blockSize ?? 32;
  if (options.dtype === 'q4') checkBlockSize(blockSize);
  const q4 = { blockSize, symmetric: options.symmetric ?? false, roundScale: options.float16Scales ? roundToFloat16 : undefined };
  const accuracyLevel = options.accuracyLevel ?? 4;
  if (![0, 1, 2, 3, 4].includes(accuracyLevel)) throw new InputError({ field: 'accuracyLevel', value: accuracyLevel, expected: '0, 1, 2, 3 or 4' });
  const minimum = options.minimumDimension ?? 16;

  const reader = await OnnxModelReader.open(inputPath);
  const output = new ExternalDataOutput(outputDirectory, outputFileName, options.maxExternalDataFileBytes ?? DEFAULT_MAX_DATA_FILE_BYTES);
  try {
    const graph = reader.graph;
    const alreadyQuantized = graph.node.find((node) => QUANTIZED_OPS.has(node.opType ?? ''));
    if (alreadyQuantized) {
      throw new InputError({
        field: 'model',
        value: inputPath,
        expected: 'an fp32 graph',
        message: `${inputPath} is already quantized (node ${alreadyQuantized.name} is ${alreadyQuantized.opType}); quantize the fp32 file instead`,
      });
    }
    const { plans, skipped } = planGraph(graph, { minimumDimension: minimum, quantizeTables: options.quantizeTables ?? true, dtype: options.dtype });
    if (plans.size === 0) {
      const skippedText = skipped.map((entry) => `; ${entry.opType} ${entry.node} on ${entry.tensor} was ${entry.reason}`).join('');
      throw new InputError({
        field: 'model',
        value: inputPath,
        expected: `a graph with MatMul nodes whose B is a 2-D float32 initializer, Gemm(transB=1) nodes on one, or Gather nodes on 2-D float32 tables, both sides at least ${minimum}`,
        message: `${inputPath} has nothing to quantize: no MatMul or Gemm(transB=1) with a 2-D float32 weight initializer and no Gather on a float32 table (both sides ≥ ${minimum})${skippedText}`,
      });
    }

    // An initializer is dropped only when every use of it is replaced (uses inside If / Loop
    // bodies count: they read outer initializers by name).
    const uses = new Map<string, number>();
    countUses(graph, uses);
    const plannedUses = new Map<string, number>();
    for (const plan of plans.values()) plannedUses.set(plan.tensor.name ?? '', (plannedUses.get(plan.tensor.name ?? '') ?? 0) + 1);

    const context: WeightQuantizerContext = {
      reader,
      output,
      externalThresholdBytes: options.externalDataThresholdBytes ?? 1024,
      chunkBytes: options.chunkBytes ?? 16 * 1024 * 1024,
    };
    const kindsByTensor = new Map<string, Set<Plan['kind']>>();
    for (const plan of plans.values()) {
      const kinds = kindsByTensor.get(plan.tensor.name ?? '') ?? new Set();
      kinds.add(plan.kind);
      kindsByTensor.set(plan.tensor.name ?? '', kinds);
    }
    const total = [...kindsByTensor.values()].reduce((sum, kinds) => sum + kinds.size, 0);
    const quantized = new Map<string, QuantizedInitializers>();
    const newInitializers: OnnxTypes.ITensorProto[] = [];
    const reports: QuantizedTensorReport[] = [];
    for (const tensor of graph.initializer) {
      const name = tensor.name ?? '';
      const [rows, columns] = dimsOf(tensor) as [number, number];
      if (options.emulate && kindsByTensor.has(name)) {
        // A tensor read by several kinds of node would need several emulations; use one (a
        // Gemm(transB=1) weight and a table of the same [V, D] quantize alike: blocks along D).
        const kinds = kindsByTensor.get(name)!;
        const kind = kinds.has('matmul') ? 'matmul' : kinds.has('gemm') ? 'gemm' : 'table';
        newInitializers.push(await emulateQuantizedWeight(context, tensor, kind, options.dtype, rows, columns, q4));
        reports.push({ name, kind, shape: [rows, columns], op: 'emulated' });
        options.onProgress?.({ file: outputFileName, tensor: name, done: reports.length, total });
        continue;
      }
      for (const kind of kindsByTensor.get(name) ?? []) {
        let result: QuantizedInitializers;
        if (kind === 'matmul') {
          result = options.dtype === 'q4' ? await quantizeMatMulWeightQ4(context, tensor, rows, columns, q4) : await quantizeMatMulWeightInt8(context, tensor, rows, columns);
        } else if (kind === 'gemm') {
          result = options.dtype === 'q4' ? await quantizeTransposedWeightQ4(context, tensor, rows, columns, q4) : await quantizeTransposedWeightInt8(context, tensor, rows, columns);
        } else {
          result = options.dtype === 'q4' ? await quantizeTableQ4(context, tensor, rows, columns, q4) : await quantizeTableInt8(context, tensor, rows, columns);
        }
        // One weight read by two kinds of node (a tied table gathered and multiplied in one graph)
        // gets two quantized forms; the second is named after its kind so the names stay unique.
        if (kind !== [...kindsByTensor.get(name)!][0]) result = renamedInitializers(result, name, `${name}_${kind}`);
        quantized.set(`${kind}:${name}`, result);
        newInitializers.push(...result.initializers);
        reports.push({ name, kind, shape: [rows, columns], op: opFor(kind, options.dtype) });
        options.onProgress?.({ file: outputFileName, tensor: name, done: reports.length, total });
      }
      if ((plannedUses.get(name) ?? 0) < (uses.get(name) ?? 0)) newInitializers.push(await copyInitializer(reader, output, tensor));
    }

    const lastAxis = '/quantization/constants/int64_minus_one';
    let needsLastAxis = false;
    const nodes: OnnxTypes.INodeProto[] = [];
    for (const node of graph.node) {
      const plan = options.emulate ? undefined : plans.get(node);
      if (!plan) {
        nodes.push(node);
        continue;
      }
      const names = quantized.get(`${plan.kind}:${plan.tensor.name}`)!;
      const outputName = node.output![0]!;
      if (plan.kind === 'matmul' || plan.kind === 'gemm') {
        // Gemm's A is 2-D [M, K]; MatMulNBits and DynamicQuantizeMatMul give the same [M, N].
        const input = node.input![0]!;
        const [k, n] = plan.kind === 'matmul' ? plan.shape : [plan.shape[1], plan.shape[0]];
        nodes.push(
          options.dtype === 'q4'
            ? matMulNBitsNode(`${node.name}_Q4`, { input, output: outputName, ...names }, { k, n, blockSize, accuracyLevel })
            : dynamicQuantizeMatMulNode(`${node.name}_quantized`, { input, output: outputName, data: names.data, scales: names.scales }),
        );
      } else {
        const indices = node.input![1]!;
        if (options.dtype === 'q4') {
          nodes.push(gatherBlockQuantizedNode(`${node.name}_Q4`, { indices, output: outputName, ...names }, blockSize));
        } else {
          needsLastAxis = true;
          nodes.push(...int8GatherNodes(`${node.name}_quantized`, { indices, output: outputName, data: names.data, scales: names.scales, lastAxis }));
        }
      }
    }
    if (needsLastAxis) newInitializers.push(inlineTensor(lastAxis, DATA_TYPE.int64, [1], bytesOf(BigInt64Array.from([-1n]))));

    const opsetImport = [...reader.model.opsetImport];
    if (!opsetImport.some((opset) => opset.domain === MICROSOFT_DOMAIN)) opsetImport.push(onnx.OperatorSetIdProto.create({ domain: MICROSOFT_DOMAIN, version: 1 }));
    const model = modelWithHeaderOf(reader.model, {
      functions: reader.model.functions,
      opsetImport,
      graph: { ...graphFields(graph), node: nodes, initializer: newInitializers },
    });
    const files = await output.finish(model);
    return { files, tensors: reports, skipped };
  } catch (error) {
    await output.discard();
    throw error;
  } finally {
    await reader.close();
  }
}

/** Adds every node input and graph output name of `graph` and its subgraphs to `uses`. */
function countUses(graph: OnnxTypes.IGraphProto, uses: Map<string, number>): void {
  const add = (name: string) => uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) add(input);
    for (const entry of node.attribute ?? []) {
      if (entry.g) countUses(entry.g, uses);
      for (const subgraph of entry.graphs ?? []) countUses(subgraph, uses);
    }
  }
  for (const value of graph.output ?? []) add(value.name ?? '');
}

/**
 * Names of the initializers `quantizeModelFile` would quantize in `inputPath` (empty: nothing
 * to quantize), without writing anything.
 */
export async function findQuantizableTensors(
  inputPath: string,
  options: { dtype: QuantizationDtype; minimumDimension?: number; quantizeTables?: boolean },
): Promise<string[]> {
  const reader = await OnnxModelReader.open(inputPath);
  try {
    if (options.dtype === 'fp16') return reader.graph.initializer.filter((tensor) => tensor.dataType === DATA_TYPE.float32).map((tensor) => tensor.name ?? '');
    const dtype = options.dtype === 'q8' ? 'q8' : 'q4';
    const { plans } = planGraph(reader.graph, { minimumDimension: options.minimumDimension ?? 16, quantizeTables: options.quantizeTables ?? true, dtype });
    return [...new Set([...plans.values()].map((plan) => plan.tensor.name ?? ''))];
  } finally {
    await reader.close();
  }
}

function opFor(kind: Plan['kind'], dtype: QuantizeModelOptions['dtype']): string {
  if (kind === 'matmul' || kind === 'gemm') return dtype === 'q4' ? 'MatMulNBits' : 'DynamicQuantizeMatMul';
  return dtype === 'q4' ? 'GatherBlockQuantized' : 'Gather+Cast+Mul (int8 rows)';
}

/** The same quantized initializers with the weight-name prefix `from` replaced by `to`. */
function renamedInitializers(result: QuantizedInitializers, from: string, to: string): QuantizedInitializers {
  const rename = (name: string) => (name.startsWith(from) ? `${to}${name.slice(from.length)}` : name);
  return {
    initializers: result.initializers.map((tensor) => ({ ...tensor, name: rename(tensor.name ?? '') })),
    data: rename(result.data),
    scales: rename(result.scales),
    zeroPoints: result.zeroPoints === null ? null : rename(result.zeroPoints),
  };
}

/** The graph's fields other than nodes and initializers, as plain values. */
function graphFields(graph: OnnxTypes.GraphProto): OnnxTypes.IGraphProto {
  return {
    name: graph.name,
    docString: graph.docString,
    input: graph.input,
    output: graph.output,
    valueInfo: graph.valueInfo,
    quantizationAnnotation: graph.quantizationAnnotation,
  };
}

/** The same initializer in the new model: inline stays inline, external is streamed over. */
async function copyInitializer(reader: OnnxModelReader, output: ExternalDataOutput, tensor: OnnxTypes.ITensorProto): Promise<OnnxTypes.ITensorProto> {
  const source = reader.bytesOf(tensor);
  if (source.kind === 'inline') return tensor;
  const copy: OnnxTypes.ITensorProto = { name: tensor.name, dataType: tensor.dataType, dims: tensor.dims, docString: tensor.docString };
  await output.write(copy, source.length, reader.chunks(tensor));
  return copy;
}
