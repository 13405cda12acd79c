import { InputError, UnsupportedError } from '@gemma3n/core';
import { float32ToFloat16Bits } from '../float16';
import { DEFAULT_MAX_DATA_FILE_BYTES, ExternalDataOutput, modelWithHeaderOf } from '../onnx/external-data-output';
import { attribute, attributeInt, bytesOf, DATA_TYPE, makeNode } from '../onnx/onnx-nodes';
import { OnnxModelReader } from '../onnx/onnx-model-reader';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import type { QuantizeModelResult, QuantizeProgress } from './quantize-model-file';

export interface ConvertFloat16Options {
  /** Keep RMSNorm sums of squares in float32 (default true; false only to show why). */
  keepNormsInFloat32?: boolean;
  onProgress?: (event: QuantizeProgress) => void;
  maxExternalDataFileBytes?: number;
  externalDataThresholdBytes?: number;
  chunkBytes?: number;
}

/** Ops whose output type is not that of their first input. */
const NON_FLOAT_OUTPUT_OPS = new Set(['Shape', 'Size', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Not', 'Xor', 'IsNaN', 'IsInf', 'ArgMax', 'ArgMin', 'NonZero']);
/** Ops with subgraphs or typed outputs this pass does not follow. */
const UNSUPPORTED_OPS = new Set(['If', 'Loop', 'Scan', 'DynamicQuantizeMatMul', 'MatMulInteger', 'QuantizeLinear', 'DequantizeLinear', 'RandomNormal', 'RandomUniform', 'EyeLike']);

/**
 * fp16 weights and compute with float32 graph inputs and outputs, so the file keeps the
 * model-folder contract's input and output types (and transformers.js, which builds the past
 * KV feeds from the graph's types, feeds float32 as it does for fp32 files):
 *
 * - every float32 initializer, Constant and ConstantOfShape value becomes float16, and every
 *   Cast to float32 inside the graph casts to float16;
 * - each float32 graph input gets a Cast to float16 in front of its readers, each float32
 *   output a Cast back to float32;
 * - the sum of squares of an RMSNorm (`Mul(x, x)` → `ReduceMean` → … `Sqrt`) stays float32:
 *   x² overflows float16 (65504) as soon as |x| > 256, which Gemma's residual stream reaches.
 *
 * MatMulNBits and GatherBlockQuantized of a q4 file follow along (their scales become float16,
 * their activations are float16): that is q4f16. Where onnxruntime's CPU EP has no float16
 * kernel it inserts float32 casts itself.
 */
export async function convertModelFileToFloat16(
  inputPath: string,
  outputDirectory: string,
  outputFileName: string,
  options: ConvertFloat16Options = {},
): Promise<QuantizeModelResult> {
  const reader = await OnnxModelReader.open(inputPath);
  const output = new ExternalDataOutput(outputDirectory, outputFileName, options.maxExternalDataFileBytes ?? DEFAULT_MAX_DATA_FILE_BYTES);
  try {
    const graph = reader.graph;
    const blocked = graph.node.find((node) => UNSUPPORTED_OPS.has(node.opType ?? ''));
    if (blocked) {
      throw new UnsupportedError({
        feature: 'fp16 conversion of op',
        value: blocked.opType,
        message: `${inputPath}: node ${blocked.name} (${blocked.opType}) is not handled by the fp16 pass; convert the fp32 file, without quantized ops or subgraphs`,
      });
    }
    const floatNames = floatTensorNames(graph);
    const floatInitializers = graph.initializer.filter((tensor) => tensor.dataType === DATA_TYPE.float32);
    if (floatInitializers.length === 0) {
      throw new InputError({ field: 'model', value: inputPath, expected: 'a graph with float32 weights', message: `${inputPath} has nothing to convert: no float32 initializers` });
    }
    const readers = new Map<string, OnnxTypes.INodeProto[]>();
    for (const node of graph.node) for (const input of node.input ?? []) readers.set(input, [...(readers.get(input) ?? []), node]);
    const keptFloat32 = options.keepNormsInFloat32 === false ? new Set<OnnxTypes.INodeProto>() : rmsNormSquares(graph, readers);
    const graphOutputs = new Set(graph.output.map((value) => value.name ?? ''));
    /** float32 values produced by kept nodes, by their original names: read directly by kept readers. */
    const float32Versions = new Map<string, string>();
    /** float16 values already cast up for a kept node (x of Mul(x, x) once, not twice). */
    const upcasts = new Map<string, string>();

    const threshold = options.externalDataThresholdBytes ?? 1024;
    const chunkBytes = options.chunkBytes ?? 16 * 1024 * 1024;
    const initializers: OnnxTypes.ITensorProto[] = [];
    const tensors: QuantizeModelResult['tensors'] = [];
    for (const tensor of graph.initializer) {
      const source = reader.bytesOf(tensor);
      if (tensor.dataType !== DATA_TYPE.float32) {
        if (source.kind === 'inline') initializers.push(tensor);
        else {
          const copy: OnnxTypes.ITensorProto = { name: tensor.name, dataType: tensor.dataType, dims: tensor.dims };
          await output.write(copy, source.length, reader.chunks(tensor, chunkBytes));
          initializers.push(copy);
        }
        continue;
      }
      const converted: OnnxTypes.ITensorProto = { name: tensor.name, dataType: DATA_TYPE.float16, dims: tensor.dims };
      const byteLength = OnnxModelReader.byteLength(tensor) / 2;
      async function* halves(): AsyncGenerator<Uint8Array> {
        for await (const chunk of reader.chunks(tensor, chunkBytes)) yield bytesOf(toFloat16(chunk));
      }
      if (byteLength < threshold) {
        const parts: Uint8Array[] = [];
        for await (const part of halves()) parts.push(part);
        converted.rawData = concatenate(parts, byteLength);
      } else {
        await output.write(converted, byteLength, halves());
      }
      initializers.push(converted);
      const dims = (tensor.dims ?? []).map(Number);
      tensors.push({ name: tensor.name ?? '', kind: dims.length === 2 ? 'matmul' : 'table', shape: [dims[0] ?? 1, dims[1] ?? 1], op: 'float16' });
      options.onProgress?.({ file: outputFileName, tensor: tensor.name ?? '', done: tensors.length, total: floatInitializers.length });
    }

    const nodes: OnnxTypes.INodeProto[] = [];
    const inputRenames = new Map<string, string>();
    for (const input of graph.input) {
      if (input.type?.tensorType?.elemType !== DATA_TYPE.float32) continue;
      const name = input.name ?? '';
      inputRenames.set(name, `${name}/float16`);
      nodes.push(makeNode('Cast', `/float16/inputs/${name}`, [name], [`${name}/float16`], { to: DATA_TYPE.float16 }));
    }
    const outputRenames = new Map<string, string>();
    for (const value of graph.output) {
      if (value.type?.tensorType?.elemType === DATA_TYPE.float32) outputRenames.set(value.name ?? '', `${value.name}/float16`);
    }
    const renamedInput = (name: string) => inputRenames.get(name) ?? outputRenames.get(name) ?? name;
    for (const node of graph.node) {
      const rewritten: OnnxTypes.INodeProto = { ...node, input: (node.input ?? []).map(renamedInput), output: (node.output ?? []).map((name) => outputRenames.get(name) ?? name) };
      rewritten.attribute = (node.attribute ?? []).map((entry) => float16Attribute(node, entry));
      if (keptFloat32.has(node)) {
        // Compute this node in float32: float inputs come from a kept producer as they are, or
        // are cast up; outputs are cast back down only for readers outside the kept chain.
        const inputs = rewritten.input!.map((name, index) => {
          const original = node.input![index]!;
          const direct = float32Versions.get(original);
          if (direct) return direct;
          if (!floatNames.has(original)) return name;
          let upcast = upcasts.get(name);
          if (!upcast) {
            upcast = `${node.name}/float32_input_${index}`;
            nodes.push(makeNode('Cast', `${node.name}/CastUp_${index}`, [name], [upcast], { to: DATA_TYPE.float32 }));
            upcasts.set(name, upcast);
          }
          return upcast;
        });
        const outputs = rewritten.output!.map((name) => `${name}/float32`);
        nodes.push({ ...rewritten, input: inputs, output: outputs });
        node.output!.forEach((original, index) => {
          float32Versions.set(original, outputs[index]!);
          const outsideReaders = (readers.get(original) ?? []).some((reader) => !keptFloat32.has(reader));
          if (outsideReaders || graphOutputs.has(original)) {
            nodes.push(makeNode('Cast', `${node.name}/CastDown_${index}`, [outputs[index]!], [rewritten.output![index]!], { to: DATA_TYPE.float16 }));
          }
        });
        continue;
      }
      nodes.push(rewritten);
    }
    for (const [name, internal] of outputRenames) nodes.push(makeNode('Cast', `/float16/outputs/${name}`, [internal], [name], { to: DATA_TYPE.float32 }));

    const valueInfo = (graph.valueInfo ?? []).map((info) =>
      floatNames.has(info.name ?? '') ? { ...info, type: { tensorType: { ...info.type?.tensorType, elemType: DATA_TYPE.float16 } } } : info,
    );
    const model = modelWithHeaderOf(reader.model, {
      opsetImport: reader.model.opsetImport,
      graph: { name: graph.name, docString: graph.docString, input: graph.input, output: graph.output, valueInfo, node: nodes, initializer: initializers },
    });
    const files = await output.finish(model);
    return { files, tensors, skipped: [] };
  } catch (error) {
    await output.discard();
    throw error;
  } finally {
    await reader.close();
  }
}

/**
 * Names of the float32 values of the fp32 graph, propagated forward from float32 inputs,
 * initializers and constants with the ops' type rules (most ops keep their first input's type).
 */
export function floatTensorNames(graph: OnnxTypes.IGraphProto): Set<string> {
  const names = new Set<string>();
  for (const input of graph.input ?? []) if (input.type?.tensorType?.elemType === DATA_TYPE.float32) names.add(input.name ?? '');
  for (const tensor of graph.initializer ?? []) if (tensor.dataType === DATA_TYPE.float32) names.add(tensor.name ?? '');
  for (const node of graph.node ?? []) {
    const inputs = node.input ?? [];
    let isFloat: boolean;
    if (node.opType === 'Cast') isFloat = attributeInt(node, 'to') === DATA_TYPE.float32;
    else if (node.opType === 'Constant' || node.opType === 'ConstantOfShape') {
      const value = node.attribute?.find((entry) => entry.name === 'value');
      isFloat = value?.t ? value.t.dataType === DATA_TYPE.float32 : node.opType === 'ConstantOfShape' || node.attribute?.some((entry) => entry.name === 'value_float' || entry.name === 'value_floats') === true;
    } else if (NON_FLOAT_OUTPUT_OPS.has(node.opType ?? '')) isFloat = false;
    else if (node.opType === 'Where') isFloat = names.has(inputs[1] ?? '');
    // Its data is uint8; the output has the scales' type (float16 scales make a q4f16 table).
    else if (node.opType === 'GatherBlockQuantized') isFloat = names.has(inputs[2] ?? '');
    else isFloat = names.has(inputs[0] ?? '');
    if (isFloat) for (const output of node.output ?? []) names.add(output);
  }
  return names;
}

/** RMSNorm sums of squares: `Mul(x, x)`, the ReduceMean reading it, the Add of epsilon and the Sqrt. */
function rmsNormSquares(graph: OnnxTypes.GraphProto, readers: Map<string, OnnxTypes.INodeProto[]>): Set<OnnxTypes.INodeProto> {
  const kept = new Set<OnnxTypes.INodeProto>();
  for (const node of graph.node) {
    const inputs = node.input ?? [];
    if (node.opType !== 'Mul' || inputs[0] !== inputs[1]) continue;
    kept.add(node);
    let frontier = readers.get(node.output?.[0] ?? '') ?? [];
    // Follow ReduceMean → Add (epsilon) → Sqrt, the chain that still holds x²-sized values.
    for (const opType of ['ReduceMean', 'Add', 'Sqrt']) {
      const next = frontier.find((candidate) => candidate.opType === opType);
      if (!next) break;
      kept.add(next);
      frontier = readers.get(next.output?.[0] ?? '') ?? [];
    }
  }
  return kept;
}

function float16Attribute(node: OnnxTypes.INodeProto, entry: OnnxTypes.IAttributeProto): OnnxTypes.IAttributeProto {
  if (node.opType === 'Cast' && entry.name === 'to' && Number(entry.i) === DATA_TYPE.float32) return attribute('to', DATA_TYPE.float16);
  if ((node.opType === 'Constant' || node.opType === 'ConstantOfShape') && entry.name === 'value' && entry.t?.dataType === DATA_TYPE.float32) {
    const raw = entry.t.rawData && entry.t.rawData.length > 0 ? entry.t.rawData : bytesOf(Float32Array.from(entry.t.floatData ?? []));
    return { ...entry, t: { name: entry.t.name, dims: entry.t.dims, dataType: DATA_TYPE.float16, rawData: bytesOf(toFloat16(raw)) } };
  }
  if (node.opType === 'Constant' && entry.name === 'value_float') {
    return { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [], dataType: DATA_TYPE.float16, rawData: bytesOf(Uint16Array.from([float32ToFloat16Bits(entry.f ?? 0)])) } };
  }
  return entry;
}

/** float32 little-endian bytes → float16 bits. */
function toFloat16(bytes: Uint8Array): Uint16Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // a copy (Buffer.slice would be a view)
  const values = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const result = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) result[index] = float32ToFloat16Bits(values[index]!);
  return result;
}

function concatenate(parts: Uint8Array[], byteLength: number): Uint8Array {
  const result = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.byteLength;
  }
  return result;
}
