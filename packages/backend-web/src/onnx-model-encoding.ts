import {
  protobufBytesField as bytesField,
  protobufIntegerField as integerField,
  protobufTextField as textField,
} from '@gemma3n/core';

/** A graph value: name, element type (1 float, 10 float16, 7 int64) and dims (numbers or symbolic names). */
export interface EncodedValue {
  name: string;
  elementType: number;
  dims: readonly (number | string)[];
}

export interface EncodedNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Integer attributes (`axis`, `to`, `keepdims`) and integer-list attributes (`axes`). */
  attributes?: Record<string, number | readonly number[]>;
}

export interface EncodedInitializer {
  name: string;
  elementType: number;
  dims: readonly number[];
  /** Little-endian raw bytes (TensorProto.raw_data). */
  rawData: Uint8Array;
}

export interface EncodedModel {
  nodes: readonly EncodedNode[];
  inputs: readonly EncodedValue[];
  outputs: readonly EncodedValue[];
  initializers?: readonly EncodedInitializer[];
  /** ai.onnx opset; default 13. */
  opset?: number;
}

function valueInfo(value: EncodedValue): number[] {
  const shape = value.dims.flatMap((dim) => bytesField(1, typeof dim === 'number' ? integerField(1, dim) : textField(2, dim)));
  const tensorType = [...integerField(1, value.elementType), ...bytesField(2, shape)];
  return [...textField(1, value.name), ...bytesField(2, bytesField(1, tensorType))];
}

function attribute(name: string, value: number | readonly number[]): number[] {
  // AttributeProto: name 1, i 3, ints 8, type 20 (INT = 2, INTS = 7).
  if (typeof value === 'number') return [...textField(1, name), ...integerField(3, value), ...integerField(20, 2)];
  return [...textField(1, name), ...value.flatMap((item) => integerField(8, item)), ...integerField(20, 7)];
}

function node(encoded: EncodedNode): number[] {
  return [
    ...encoded.inputs.flatMap((input) => textField(1, input)),
    ...encoded.outputs.flatMap((output) => textField(2, output)),
    ...(encoded.name === undefined ? [] : textField(3, encoded.name)),
    ...textField(4, encoded.opType),
    ...Object.entries(encoded.attributes ?? {}).flatMap(([name, value]) => bytesField(5, attribute(name, value))),
  ];
}

function initializer(encoded: EncodedInitializer): number[] {
  return [
    ...encoded.dims.flatMap((dim) => integerField(1, dim)),
    ...integerField(2, encoded.elementType),
    ...textField(8, encoded.name),
    ...bytesField(9, Array.from(encoded.rawData)),
  ];
}

/** Encodes a small ONNX model (IR version 8) for self-tests; weights inline. */
export function encodeOnnxModel(model: EncodedModel): Uint8Array {
  const graph = [
    ...model.nodes.flatMap((entry) => bytesField(1, node(entry))),
    ...textField(2, 'gemma3n-self-test'),
    ...(model.initializers ?? []).flatMap((entry) => bytesField(5, initializer(entry))),
    ...model.inputs.flatMap((entry) => bytesField(11, valueInfo(entry))),
    ...model.outputs.flatMap((entry) => bytesField(12, valueInfo(entry))),
  ];
  const opset = bytesField(8, [...textField(1, ''), ...integerField(2, model.opset ?? 13)]);
  return Uint8Array.from([...integerField(1, 8), ...opset, ...bytesField(7, graph)]);
}

/** `Y = Identity(X)` over one float: the model `init()` creates a session of to start onnxruntime. */
export function warmUpModel(): Uint8Array {
  const value = (name: string): EncodedValue => ({ name, elementType: 1, dims: [1] });
  return encodeOnnxModel({ nodes: [{ opType: 'Identity', inputs: ['X'], outputs: ['Y'] }], inputs: [value('X')], outputs: [value('Y')] });
}

/**
 * A one-layer "decoder" with the Gemma 3n cache contract: `present.0.key = Concat(past, step)`
 * along the positions axis, and `logits = ReduceSum(present.0.key, axes [2])` — so the logits
 * after each step are the sum of every step fed so far, which only holds if the past the
 * session got back was really the previous present.
 */
export function kvCacheSelfTestModel(): Uint8Array {
  const float = (name: string, dims: (number | string)[]): EncodedValue => ({ name, elementType: 1, dims });
  return encodeOnnxModel({
    opset: 11, // ReduceSum still takes `axes` as an attribute
    nodes: [
      { opType: 'Concat', inputs: ['past_key_values.0.key', 'step'], outputs: ['present.0.key'], attributes: { axis: 2 } },
      { opType: 'ReduceSum', inputs: ['present.0.key'], outputs: ['logits'], attributes: { axes: [2], keepdims: 1 } },
    ],
    inputs: [float('step', [1, 1, 1, 2]), float('past_key_values.0.key', [1, 1, 'past_sequence_length', 2])],
    outputs: [float('present.0.key', [1, 1, 'total_sequence_length', 2]), float('logits', [1, 1, 1, 2])],
  });
}
