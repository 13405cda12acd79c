import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '@gemma3n/core';
import { checkBlockSize } from '../blockwise-4bit';
import { roundToFloat16 } from '../float16';
import type { QuantizationDtype } from '../quantization-dtypes';
import { DEFAULT_MAX_DATA_FILE_BYTES, ExternalDataOutput } from '../onnx/external-data-output';
import { attributeInt, bytesOf, DATA_TYPE, inlineTensor, MICROSOFT_DOMAIN } from '../onnx/onnx-nodes';
import { dimsOf, OnnxModelReader } from '../onnx/onnx-model-reader';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { dynamicQuantizeMatMulNode, gatherBlockQuantizedNode, int8GatherNodes, matMulNBitsNode } from '../onnx/quantized-nodes';
import {
  emulateQuantizedWeight,
  quantizeMatMulWeightInt8,
  quantizeMatMulWeightQ4,
  quantizeTableInt8,
  quantizeTableQ4,
  type QuantizedInitializers,
  type WeightQuantizerContext,
} from './weight-quantizers';

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
  kind: 'matmul' | 'table';
  /** The fp32 shape: [K, N] for a MatMul weight, [rows, columns] for a table. */
  shape: [number, number];
  op: string;
}

export interface QuantizeModelResult {
  /** Written files, relative to the output directory (model first). */
  files: string[];
  tensors: QuantizedTensorReport[];
}

/** Ops whose presence means the graph was already quantized. */
const QUANTIZED_OPS = new Set(['MatMulNBits', 'GatherBlockQuantized', 'DynamicQuantizeMatMul', 'MatMulInteger', 'QLinearMatMul', 'DequantizeLinear', 'MatMulBnb4']);

interface Plan {
  kind: 'matmul' | 'table';
  tensor: OnnxTypes.ITensorProto;
  shape: [number, number];
}

/**
 * Writes a quantized copy of one `.onnx` file (`inputPath`, with its external data) as
 * `outputDirectory/outputFileName` plus `<outputFileName>_data…`:
 *
 * - MatMul whose B is a 2-D float32 initializer [K, N] → MatMulNBits (q4) or
 *   DynamicQuantizeMatMul (q8). The tied lm_head of our decoder is such a MatMul (the
 *   embedding table transposed to [D, V]), so it is quantized like any other weight.
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
    const initializers = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
    const plans = new Map<OnnxTypes.INodeProto, Plan>();
    for (const node of graph.node) {
      const plan = planNode(node, initializers, minimum, options.quantizeTables ?? true, options.dtype);
      if (plan) plans.set(node, plan);
    }
    if (plans.size === 0) {
      throw new InputError({
        field: 'model',
        value: inputPath,
        expected: `a graph with MatMul nodes whose B is a 2-D float32 initializer, or Gather nodes on 2-D float32 tables, both sides at least ${minimum}`,
        message: `${inputPath} has nothing to quantize: no MatMul with a 2-D float32 weight initializer and no Gather on a float32 table (both sides ≥ ${minimum})`,
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
        // A tensor both multiplied and gathered would need two emulations; use the MatMul one.
        const kind = kindsByTensor.get(name)!.has('matmul') ? 'matmul' : 'table';
        newInitializers.push(await emulateQuantizedWeight(context, tensor, kind, options.dtype, rows, columns, q4));
        reports.push({ name, kind, shape: [rows, columns], op: 'emulated' });
        options.onProgress?.({ file: outputFileName, tensor: name, done: reports.length, total });
        continue;
      }
      for (const kind of kindsByTensor.get(name) ?? []) {
        let result: QuantizedInitializers;
        if (kind === 'matmul') {
          result = options.dtype === 'q4' ? await quantizeMatMulWeightQ4(context, tensor, rows, columns, q4) : await quantizeMatMulWeightInt8(context, tensor, rows, columns);
        } else {
          result = options.dtype === 'q4' ? await quantizeTableQ4(context, tensor, rows, columns, q4) : await quantizeTableInt8(context, tensor, rows, columns);
        }
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
      if (plan.kind === 'matmul') {
        const input = node.input![0]!;
        nodes.push(
          options.dtype === 'q4'
            ? matMulNBitsNode(`${node.name}_Q4`, { input, output: outputName, ...names }, { k: plan.shape[0], n: plan.shape[1], blockSize, accuracyLevel })
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
    const source = reader.model;
    const model: OnnxTypes.IModelProto = {
      irVersion: source.irVersion,
      producerName: source.producerName,
      producerVersion: source.producerVersion,
      domain: source.domain,
      modelVersion: source.modelVersion,
      docString: source.docString,
      metadataProps: source.metadataProps,
      functions: source.functions,
      opsetImport,
      graph: { ...graphFields(graph), node: nodes, initializer: newInitializers },
    };
    await output.close();
    const finalPath = join(outputDirectory, outputFileName);
    const temporaryPath = `${finalPath}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temporaryPath, onnx.ModelProto.encode(model).finish());
    await rename(temporaryPath, finalPath);
    return { files: [outputFileName, ...output.fileNames()], tensors: reports };
  } catch (error) {
    await output.abort();
    for (const file of output.fileNames()) await rm(join(outputDirectory, file), { force: true });
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
    const initializers = new Map(reader.graph.initializer.map((tensor) => [tensor.name, tensor]));
    const names = new Set<string>();
    for (const node of reader.graph.node) {
      const plan = planNode(node, initializers, options.minimumDimension ?? 16, options.quantizeTables ?? true, dtype);
      if (plan) names.add(plan.tensor.name ?? '');
    }
    return [...names];
  } finally {
    await reader.close();
  }
}

function planNode(
  node: OnnxTypes.INodeProto,
  initializers: Map<string | null | undefined, OnnxTypes.ITensorProto>,
  minimum: number,
  quantizeTables: boolean,
  dtype: QuantizeModelOptions['dtype'],
): Plan | undefined {
  const floatMatrix = (name: string | undefined): [OnnxTypes.ITensorProto, [number, number]] | undefined => {
    const tensor = name === undefined ? undefined : initializers.get(name);
    if (!tensor || tensor.dataType !== DATA_TYPE.float32) return undefined;
    const dims = dimsOf(tensor);
    if (dims.length !== 2 || dims[0]! < minimum || dims[1]! < minimum) return undefined;
    return [tensor, dims as [number, number]];
  };
  const inputs = node.input ?? [];
  if (node.opType === 'MatMul' && (node.domain ?? '') === '' && !initializers.has(inputs[0])) {
    const found = floatMatrix(inputs[1]);
    if (found) return { kind: 'matmul', tensor: found[0], shape: found[1] };
  }
  if (quantizeTables && node.opType === 'Gather' && (node.domain ?? '') === '' && (attributeInt(node, 'axis') ?? 0) === 0) {
    const found = floatMatrix(inputs[0]);
    // 4-bit rows pack two values per byte: an odd width cannot be stored.
    if (found && !(dtype === 'q4' && found[1][1] % 2 !== 0)) return { kind: 'table', tensor: found[0], shape: found[1] };
  }
  return undefined;
}

function opFor(kind: Plan['kind'], dtype: QuantizeModelOptions['dtype']): string {
  if (kind === 'matmul') return dtype === 'q4' ? 'MatMulNBits' : 'DynamicQuantizeMatMul';
  return dtype === 'q4' ? 'GatherBlockQuantized' : 'Gather+Cast+Mul (int8 rows)';
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
