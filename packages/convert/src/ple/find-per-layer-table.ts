import { ModelFileError, UnsupportedError } from '@gemma3n/core';
import type { OnnxTypes } from '../onnx/onnx-proto';
import { dimsOf, OnnxInitializerReader, TENSOR_TYPES } from './onnx-initializer-reader';

/**
 * The forms an `embed_tokens*.onnx` stores the per-layer table in, as found by walking back
 * from its `per_layer_inputs` output:
 * - `gather`: Gather of a float32 / float16 table (our fp32 export, onnx-community fp32/fp16);
 * - `gather-block-quantized`: com.microsoft GatherBlockQuantized (uint8 data with bits 8 or 4,
 *   or int4/uint4 data), scales [rows, blocks], optional zero points;
 * - `dequantize-linear`: Gather of an int8/uint8 table → DequantizeLinear with one scale and
 *   zero point (what onnxruntime's quantize_dynamic makes of a Gather);
 * - `row-scaled`: Gather of an int8 table → Cast → Mul by the Gather of a per-row scale vector
 *   (what @gemma3n/quantization's q8 makes of a table).
 */
export type PerLayerTableForm =
  | { kind: 'gather'; table: OnnxTypes.ITensorProto }
  | {
      kind: 'gather-block-quantized';
      data: OnnxTypes.ITensorProto;
      scales: OnnxTypes.ITensorProto;
      zeroPoints: OnnxTypes.ITensorProto | undefined;
      bits: 4 | 8;
      blockSize: number;
    }
  | { kind: 'dequantize-linear'; data: OnnxTypes.ITensorProto; scale: OnnxTypes.ITensorProto; zeroPoint: OnnxTypes.ITensorProto | undefined }
  | { kind: 'row-scaled'; data: OnnxTypes.ITensorProto; scales: OnnxTypes.ITensorProto };

export interface FoundPerLayerTable {
  form: PerLayerTableForm;
  rows: number;
  /** Values per row after dequantization (L · P). */
  rowWidth: number;
  /** Product of the scalar Muls between the table and the output (sqrt(P) in every known export). */
  outputScale: number;
  /** e.g. `GatherBlockQuantized of /embed_tokens_per_layer/Gather_quantized [262144, 7680] uint8, bits 8, block 32`. */
  description: string;
}

/** Walks back from `per_layer_inputs` to the table and the scalar factors on the way. */
export async function findPerLayerTable(reader: OnnxInitializerReader, expected: { rowWidth: number }): Promise<FoundPerLayerTable> {
  const graph = reader.graph;
  const fileName = reader.path.split('/').pop() ?? reader.path;
  const fail = (message: string): never => {
    throw new ModelFileError({ path: fileName, location: reader.path.slice(0, -fileName.length - 1), problem: 'unreadable', message });
  };
  if (!(graph.output ?? []).some((output) => output.name === 'per_layer_inputs')) {
    fail(`${reader.path} has no per_layer_inputs output (outputs: ${(graph.output ?? []).map((output) => output.name).join(', ')}); it holds no per-layer table`);
  }
  const producers = new Map<string, OnnxTypes.INodeProto>();
  for (const node of graph.node ?? []) for (const output of node.output ?? []) producers.set(output, node);
  const producer = (name: string | undefined) => (name === undefined ? undefined : producers.get(name));
  const rank2 = (tensor: OnnxTypes.ITensorProto | undefined): tensor is OnnxTypes.ITensorProto => tensor !== undefined && dimsOf(tensor).length === 2;

  let outputScale = 1;
  const visited = new Set<string>();
  const pending = ['per_layer_inputs'];
  let form: PerLayerTableForm | undefined;
  while (pending.length > 0 && form === undefined) {
    const value = pending.shift()!;
    if (visited.has(value)) continue;
    visited.add(value);
    const node = producer(value);
    if (node === undefined) continue;
    const inputs = node.input ?? [];
    if (node.opType === 'GatherBlockQuantized' && rank2(reader.initializer(inputs[0]!))) {
      form = await blockQuantizedForm(reader, node, fail);
    } else if (node.opType === 'Gather' && isFloatTable(reader.constantTensor(inputs[0]!))) {
      form = { kind: 'gather', table: reader.constantTensor(inputs[0]!)! };
    } else if (node.opType === 'DequantizeLinear' && integerTableGather(reader, producer(inputs[0])) !== undefined) {
      const scale = reader.constantTensor(inputs[1]!);
      const zeroPoint = inputs[2] ? reader.constantTensor(inputs[2]) : undefined;
      if (scale === undefined || elements(scale) !== 1 || (zeroPoint !== undefined && elements(zeroPoint) !== 1)) {
        throw new UnsupportedError({
          feature: 'per-layer table quantization',
          value: `DequantizeLinear ${node.name} with per-axis or blocked scales`,
          message: `${reader.path}: the per-layer table is dequantized by ${node.name} with per-axis or blocked scales after the Gather, which no row layout can hold; only one scale and zero point is supported for this form`,
        });
      }
      form = { kind: 'dequantize-linear', data: integerTableGather(reader, producer(inputs[0]))!, scale: scale!, zeroPoint };
    } else if (node.opType === 'Mul' && rowScaledForm(reader, producer, inputs) !== undefined) {
      form = rowScaledForm(reader, producer, inputs)!;
    } else if (node.opType === 'Mul' && (await scalarOf(reader, producer, inputs[1])) !== undefined) {
      outputScale = Math.fround(outputScale * (await scalarOf(reader, producer, inputs[1]))!);
      pending.push(inputs[0]!);
    } else if (node.opType === 'Mul' && (await scalarOf(reader, producer, inputs[0])) !== undefined) {
      outputScale = Math.fround(outputScale * (await scalarOf(reader, producer, inputs[0]))!);
      pending.push(inputs[1]!);
    } else {
      // Reshape, Where, Identity, Cast, …: the table is further up one of the inputs.
      pending.push(...inputs.filter((input) => input !== ''));
    }
  }
  if (form === undefined) fail(`${reader.path}: no Gather, GatherBlockQuantized or DequantizeLinear of a table feeds per_layer_inputs`);
  const shape = tableShape(form!);
  if (shape.rowWidth !== expected.rowWidth) {
    fail(`${reader.path}: the per-layer table found (${describe(form!, shape)}) has rows of ${shape.rowWidth} values, but the config implies num_hidden_layers × hidden_size_per_layer_input = ${expected.rowWidth}`);
  }
  return { form: form!, rows: shape.rows, rowWidth: shape.rowWidth, outputScale, description: describe(form!, shape) };
}

function elements(tensor: OnnxTypes.ITensorProto): number {
  return dimsOf(tensor).reduce((product, dim) => product * dim, 1);
}

function isFloatTable(tensor: OnnxTypes.ITensorProto | undefined): tensor is OnnxTypes.ITensorProto {
  return tensor !== undefined && dimsOf(tensor).length === 2 && (tensor.dataType === TENSOR_TYPES.float32 || tensor.dataType === TENSOR_TYPES.float16);
}

/** The int8/uint8 2-D table a Gather node reads, if it is one. */
function integerTableGather(reader: OnnxInitializerReader, node: OnnxTypes.INodeProto | undefined): OnnxTypes.ITensorProto | undefined {
  if (node?.opType !== 'Gather') return undefined;
  const table = reader.constantTensor(node.input?.[0] ?? '');
  if (table === undefined || dimsOf(table).length !== 2) return undefined;
  return table.dataType === TENSOR_TYPES.int8 || table.dataType === TENSOR_TYPES.uint8 ? table : undefined;
}

/** Mul(Cast(Gather(int table)), [Unsqueeze|Reshape](Gather(scale vector))), in either input order. */
function rowScaledForm(
  reader: OnnxInitializerReader,
  producer: (name: string | undefined) => OnnxTypes.INodeProto | undefined,
  inputs: readonly string[],
): PerLayerTableForm | undefined {
  for (const [rowsInput, scalesInput] of [[inputs[0], inputs[1]], [inputs[1], inputs[0]]]) {
    const cast = producer(rowsInput);
    if (cast?.opType !== 'Cast') continue;
    const data = integerTableGather(reader, producer(cast.input?.[0]));
    if (data === undefined) continue;
    let scalesNode = producer(scalesInput);
    if (scalesNode?.opType === 'Unsqueeze' || scalesNode?.opType === 'Reshape') scalesNode = producer(scalesNode.input?.[0]);
    if (scalesNode?.opType !== 'Gather') continue;
    const scales = reader.constantTensor(scalesNode.input?.[0] ?? '');
    const rows = dimsOf(data)[0];
    const scaleDims = scales === undefined ? [] : dimsOf(scales);
    const perRow = scaleDims[0] === rows && (scaleDims.length === 1 || (scaleDims.length === 2 && scaleDims[1] === 1));
    if (scales !== undefined && perRow && scales.dataType === TENSOR_TYPES.float32) return { kind: 'row-scaled', data, scales };
  }
  return undefined;
}

/** The value of a scalar float constant (through Cast / Identity), else undefined. */
async function scalarOf(
  reader: OnnxInitializerReader,
  producer: (name: string | undefined) => OnnxTypes.INodeProto | undefined,
  name: string | undefined,
): Promise<number | undefined> {
  let current = name;
  for (let hop = 0; hop < 4 && current !== undefined; hop++) {
    const tensor = reader.constantTensor(current);
    if (tensor !== undefined) {
      const isFloat = tensor.dataType === TENSOR_TYPES.float32 || tensor.dataType === TENSOR_TYPES.float16;
      return isFloat && elements(tensor) === 1 ? (await reader.numbers(tensor))[0] : undefined;
    }
    const node = producer(current);
    if (node?.opType !== 'Cast' && node?.opType !== 'Identity') return undefined;
    current = node.input?.[0];
  }
  return undefined;
}

async function blockQuantizedForm(
  reader: OnnxInitializerReader,
  node: OnnxTypes.INodeProto,
  fail: (message: string) => never,
): Promise<PerLayerTableForm> {
  const attribute = (name: string, fallback: number) => Number(node.attribute?.find((entry) => entry.name === name)?.i ?? fallback);
  const gatherAxis = attribute('gather_axis', 0);
  const quantizeAxis = attribute('quantize_axis', 1);
  const bits = attribute('bits', 4);
  const blockSize = attribute('block_size', 128);
  if (gatherAxis !== 0 || (quantizeAxis !== 1 && quantizeAxis !== -1)) {
    fail(`${reader.path}: GatherBlockQuantized ${node.name} has gather_axis ${gatherAxis} and quantize_axis ${quantizeAxis}; a row layout needs 0 and 1`);
  }
  if (bits !== 4 && bits !== 8) fail(`${reader.path}: GatherBlockQuantized ${node.name} has bits ${bits}; supported: 4, 8`);
  const inputs = node.input ?? [];
  const data = reader.initializer(inputs[0]!)!;
  const scales = reader.constantTensor(inputs[2] ?? '');
  const zeroPoints = inputs[3] ? reader.constantTensor(inputs[3]) : undefined;
  if (scales === undefined) fail(`${reader.path}: the scales of GatherBlockQuantized ${node.name} are not an initializer`);
  if (inputs[3] && zeroPoints === undefined) fail(`${reader.path}: the zero points of GatherBlockQuantized ${node.name} are not an initializer`);
  const known = [TENSOR_TYPES.uint8, TENSOR_TYPES.int4, TENSOR_TYPES.uint4] as number[];
  if (!known.includes(data.dataType ?? 0)) fail(`${reader.path}: GatherBlockQuantized ${node.name} has data type ${data.dataType}; supported: uint8, int4, uint4`);
  if (data.dataType !== TENSOR_TYPES.uint8 && bits !== 4) fail(`${reader.path}: GatherBlockQuantized ${node.name} has 4-bit data with bits ${bits}`);
  return { kind: 'gather-block-quantized', data, scales: scales!, zeroPoints, bits: bits as 4 | 8, blockSize };
}

function tableShape(form: PerLayerTableForm): { rows: number; rowWidth: number } {
  const dims = dimsOf(form.kind === 'gather' ? form.table : form.data);
  const packed = form.kind === 'gather-block-quantized' && form.bits === 4 && form.data.dataType === TENSOR_TYPES.uint8;
  return { rows: dims[0]!, rowWidth: packed ? dims[1]! * 2 : dims[1]! };
}

const TYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 10: 'float16', 21: 'uint4', 22: 'int4' };

function describe(form: PerLayerTableForm, shape: { rows: number; rowWidth: number }): string {
  const tensor = form.kind === 'gather' ? form.table : form.data;
  const base = `${tensor.name} [${dimsOf(tensor).join(', ')}] ${TYPE_NAMES[tensor.dataType ?? 0] ?? tensor.dataType}`;
  switch (form.kind) {
    case 'gather':
      return `Gather of ${base}`;
    case 'gather-block-quantized':
      return `GatherBlockQuantized of ${base}, bits ${form.bits}, block ${form.blockSize}, ${form.zeroPoints ? 'with' : 'without'} zero points (${shape.rows} rows of ${shape.rowWidth} values)`;
    case 'dequantize-linear':
      return `Gather of ${base} + DequantizeLinear`;
    case 'row-scaled':
      return `Gather of ${base} × per-row scales ${form.scales.name}`;
  }
}
