import { onnx, type OnnxTypes } from './onnx-proto';

/** TensorProto.DataType codes this package reads or writes. */
export const DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  float16: 10,
} as const;

export const MICROSOFT_DOMAIN = 'com.microsoft';

export type AttributeValue = number | string | number[] | { float: number };

/** An attribute; integers are INT, `{ float }` FLOAT, strings STRING, integer arrays INTS. */
export function attribute(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const types = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: types.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: wrap the float ${value} as { float }`);
    return { name, type: types.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: types.INTS, ints: value };
  return { name, type: types.FLOAT, f: value.float };
}

export function makeNode(
  opType: string,
  name: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Record<string, AttributeValue> = {},
  domain?: string,
): OnnxTypes.INodeProto {
  const node: OnnxTypes.INodeProto = { opType, name, input: [...inputs], output: [...outputs] };
  if (domain) node.domain = domain;
  const entries = Object.entries(attributes);
  if (entries.length > 0) node.attribute = entries.map(([key, value]) => attribute(key, value));
  return node;
}

/** An inline initializer holding `bytes` (little-endian values of `dataType`). */
export function inlineTensor(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): OnnxTypes.ITensorProto {
  return { name, dataType, dims: [...dims], rawData: bytes };
}

export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) } } },
  };
}

/** An in-memory model (opset 21 + com.microsoft 1, IR 10), for kernel tests. */
export function encodeModel(graph: OnnxTypes.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 10,
      opsetImport: [
        { domain: '', version: 21 },
        { domain: MICROSOFT_DOMAIN, version: 1 },
      ],
      producerName: 'gemma3n-js quantization',
      graph,
    }),
  ).finish();
}

export function attributeInt(node: OnnxTypes.INodeProto, name: string): number | undefined {
  const found = node.attribute?.find((entry) => entry.name === name);
  return found?.i === undefined || found.i === null ? undefined : Number(found.i);
}

export function attributeFloat(node: OnnxTypes.INodeProto, name: string): number | undefined {
  const found = node.attribute?.find((entry) => entry.name === name);
  return found?.f === undefined || found.f === null ? undefined : Number(found.f);
}
