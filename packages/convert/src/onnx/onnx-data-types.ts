/**
 * Element types the graph builders use, with their ONNX TensorProto codes and byte widths.
 * Only the types Gemma 3n graphs need are listed; adding one is a single line.
 */
export type OnnxElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

interface ElementTypeInfo {
  /** onnx.TensorProto.DataType code. */
  code: number;
  bytesPerElement: number;
}

const ELEMENT_TYPES: Record<OnnxElementType, ElementTypeInfo> = {
  float32: { code: 1, bytesPerElement: 4 },
  uint8: { code: 2, bytesPerElement: 1 },
  int8: { code: 3, bytesPerElement: 1 },
  int32: { code: 6, bytesPerElement: 4 },
  int64: { code: 7, bytesPerElement: 8 },
  bool: { code: 9, bytesPerElement: 1 },
  float16: { code: 10, bytesPerElement: 2 },
};

export function elementTypeCode(type: OnnxElementType): number {
  return ELEMENT_TYPES[type].code;
}

export function bytesPerElement(type: OnnxElementType): number {
  return ELEMENT_TYPES[type].bytesPerElement;
}

/** Typed arrays accepted as initializer data; their bytes are written as-is (little-endian). */
export type TensorData =
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array;

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const dim of dims) count *= dim;
  return count;
}

/** A view of a typed array's bytes, without copying. */
export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
