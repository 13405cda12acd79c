import type { OnnxTypes } from './onnx-proto';
import { makeNode, MICROSOFT_DOMAIN } from './onnx-nodes';

/**
 * The nodes that replace a float MatMul or Gather, given the names of their quantized
 * initializers. Which op for which dtype (see the package README for the measurements):
 *
 * - q4 MatMul → `com.microsoft` MatMulNBits (bits 4): runs on node CPU, wasm and both WebGPU
 *   builds (JSEP only for block 16/32), and is what onnx-community `_q4` files hold.
 * - q8 MatMul → `com.microsoft` DynamicQuantizeMatMul with int8 per-column weights: one node
 *   (MatMulInteger + DynamicQuantizeLinear need four), on node and wasm; WebGPU runs it on CPU.
 * - q4 Gather of a table → GatherBlockQuantized (uint8 data, bits 4): node, wasm, native
 *   WebGPU; JSEP falls back to CPU.
 * - q8 Gather of a table → Gather of int8 rows and of their per-row scales, Cast, Mul: plain
 *   ops every runtime has, and the int8 table never gets dequantized whole.
 */

export interface MatMulNBitsNames {
  input: string;
  output: string;
  data: string;
  scales: string;
  zeroPoints: string | null;
}

export function matMulNBitsNode(
  name: string,
  names: MatMulNBitsNames,
  shape: { k: number; n: number; blockSize: number; accuracyLevel: number },
): OnnxTypes.INodeProto {
  const inputs = [names.input, names.data, names.scales];
  if (names.zeroPoints !== null) inputs.push(names.zeroPoints);
  return makeNode(
    'MatMulNBits',
    name,
    inputs,
    [names.output],
    { K: shape.k, N: shape.n, bits: 4, block_size: shape.blockSize, accuracy_level: shape.accuracyLevel },
    MICROSOFT_DOMAIN,
  );
}

export function dynamicQuantizeMatMulNode(name: string, names: { input: string; output: string; data: string; scales: string }): OnnxTypes.INodeProto {
  return makeNode('DynamicQuantizeMatMul', name, [names.input, names.data, names.scales], [names.output], {}, MICROSOFT_DOMAIN);
}

export function gatherBlockQuantizedNode(
  name: string,
  names: { indices: string; output: string; data: string; scales: string; zeroPoints: string | null },
  blockSize: number,
): OnnxTypes.INodeProto {
  const inputs = [names.data, names.indices, names.scales];
  if (names.zeroPoints !== null) inputs.push(names.zeroPoints);
  return makeNode(
    'GatherBlockQuantized',
    name,
    inputs,
    [names.output],
    { gather_axis: 0, quantize_axis: 1, block_size: blockSize, bits: 4 },
    MICROSOFT_DOMAIN,
  );
}

/** Gather(int8 rows) → Cast(float) and Gather(row scales) → Unsqueeze(−1), then Mul. */
export function int8GatherNodes(
  name: string,
  names: { indices: string; output: string; data: string; scales: string; lastAxis: string },
): OnnxTypes.INodeProto[] {
  const rows = `${name}/rows`;
  const rowsAsFloat = `${name}/rows_float`;
  const scales = `${name}/row_scales`;
  const scalesLastAxis = `${name}/row_scales_unsqueezed`;
  return [
    makeNode('Gather', `${name}/GatherRows`, [names.data, names.indices], [rows], { axis: 0 }),
    makeNode('Cast', `${name}/CastRows`, [rows], [rowsAsFloat], { to: 1 }),
    makeNode('Gather', `${name}/GatherScales`, [names.scales, names.indices], [scales], { axis: 0 }),
    makeNode('Unsqueeze', `${name}/UnsqueezeScales`, [scales, names.lastAxis], [scalesLastAxis]),
    makeNode('Mul', `${name}/Dequantize`, [rowsAsFloat, scalesLastAxis], [names.output]),
  ];
}
