import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFileError } from '@gemma3n/core';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { float16BitsToNumber } from '../safetensors/float-conversions';

/** ONNX TensorProto data type codes used here. */
export const TENSOR_TYPES = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, float16: 10, uint4: 21, int4: 22 } as const;

/** Bytes of `count` elements of a TensorProto data type (4-bit types packed two per byte). */
export function tensorTypeBytes(dataType: number, count: number): number {
  switch (dataType) {
    case TENSOR_TYPES.float32:
    case TENSOR_TYPES.int32:
      return count * 4;
    case TENSOR_TYPES.int64:
      return count * 8;
    case TENSOR_TYPES.float16:
      return count * 2;
    case TENSOR_TYPES.uint8:
    case TENSOR_TYPES.int8:
    case 9: // bool
      return count;
    case TENSOR_TYPES.uint4:
    case TENSOR_TYPES.int4:
      return Math.ceil(count / 2);
    default:
      throw new RangeError(`tensor data type ${dataType} is not supported here`);
  }
}

export function dimsOf(tensor: OnnxTypes.ITensorProto): number[] {
  return (tensor.dims ?? []).map((dim) => Number(dim));
}

function elementCount(tensor: OnnxTypes.ITensorProto): number {
  return dimsOf(tensor).reduce((product, dim) => product * dim, 1);
}

interface ExternalRange {
  path: string;
  location: string;
  offset: number;
  length: number;
}

/**
 * An `.onnx` file opened for reading its initializers without loading them: the graph is
 * decoded (small when the weights are external), external tensors are read by offset from the
 * `.onnx_data` files beside it. Opening checks that every data file exists and is long enough,
 * so a short download is a ModelFileError with both sizes, not a read past the end later.
 */
export class OnnxInitializerReader {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  private readonly initializers = new Map<string, OnnxTypes.ITensorProto>();

  private constructor(
    readonly path: string,
    readonly model: OnnxTypes.ModelProto,
  ) {
    for (const tensor of this.graph.initializer ?? []) this.initializers.set(tensor.name ?? '', tensor);
  }

  static async open(path: string): Promise<OnnxInitializerReader> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new ModelFileError({ path: basename(path), location: dirname(path), problem: missing ? 'missing' : 'unreadable', cause });
    }
    let model: OnnxTypes.ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes);
    } catch (cause) {
      throw new ModelFileError({
        path: basename(path),
        location: dirname(path),
        problem: 'unreadable',
        cause,
        message: `Model file "${basename(path)}" in ${dirname(path)} is not a valid ONNX model: ${(cause as Error).message}`,
      });
    }
    if (!model.graph) throw new ModelFileError({ path: basename(path), location: dirname(path), problem: 'unreadable', message: `${path} has no graph` });
    const reader = new OnnxInitializerReader(path, model);
    await reader.checkExternalData();
    return reader;
  }

  get graph(): OnnxTypes.GraphProto {
    return this.model.graph as OnnxTypes.GraphProto;
  }

  initializer(name: string): OnnxTypes.ITensorProto | undefined {
    return this.initializers.get(name);
  }

  /** The tensor behind a value name: an initializer, or the `value` of the Constant node producing it. */
  constantTensor(name: string): OnnxTypes.ITensorProto | undefined {
    const initializer = this.initializers.get(name);
    if (initializer !== undefined) return initializer;
    const node = (this.graph.node ?? []).find((candidate) => candidate.opType === 'Constant' && candidate.output?.[0] === name);
    const value = node?.attribute?.find((attribute) => attribute.name === 'value')?.t;
    if (value) return value;
    // Exporters also write scalar constants as `value_float`.
    const scalar = node?.attribute?.find((attribute) => attribute.name === 'value_float');
    return scalar ? { name, dataType: TENSOR_TYPES.float32, dims: [], floatData: [scalar.f ?? 0] } : undefined;
  }

  /** Bytes the tensor's values take. */
  static byteLength(tensor: OnnxTypes.ITensorProto): number {
    return tensorTypeBytes(tensor.dataType ?? 0, elementCount(tensor));
  }

  isExternal(tensor: OnnxTypes.ITensorProto): boolean {
    return tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
  }

  /** `length` bytes of a tensor's values starting `start` bytes in. */
  async readRange(tensor: OnnxTypes.ITensorProto, start: number, length: number): Promise<Uint8Array> {
    const total = OnnxInitializerReader.byteLength(tensor);
    if (start < 0 || length < 0 || start + length > total) {
      throw new RangeError(`initializer ${tensor.name}: bytes [${start}, ${start + length}) are outside its ${total} bytes`);
    }
    // A copy: inline bytes are views into the decoded model (a Node Buffer, whose slice() would not copy).
    if (!this.isExternal(tensor)) return new Uint8Array(inlineBytes(tensor).subarray(start, start + length));
    const range = this.externalRange(tensor);
    const handle = await this.handle(range.path);
    const result = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(result, done, length - done, range.offset + start + done);
      if (bytesRead === 0) {
        throw new ModelFileError({ path: range.location, location: dirname(this.path), problem: 'truncated', message: `${range.path} ended while reading initializer ${tensor.name}` });
      }
      done += bytesRead;
    }
    return result;
  }

  /** A small tensor's values as numbers (scalars and zero points). */
  async numbers(tensor: OnnxTypes.ITensorProto): Promise<number[]> {
    const count = elementCount(tensor);
    const bytes = await this.readRange(tensor, 0, OnnxInitializerReader.byteLength(tensor));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values: number[] = [];
    for (let index = 0; index < count; index++) {
      switch (tensor.dataType) {
        case TENSOR_TYPES.float32:
          values.push(view.getFloat32(index * 4, true));
          break;
        case TENSOR_TYPES.float16:
          values.push(float16BitsToNumber(view.getUint16(index * 2, true)));
          break;
        case TENSOR_TYPES.uint8:
          values.push(view.getUint8(index));
          break;
        case TENSOR_TYPES.int8:
          values.push(view.getInt8(index));
          break;
        case TENSOR_TYPES.int64:
          values.push(Number(view.getBigInt64(index * 8, true)));
          break;
        case TENSOR_TYPES.int32:
          values.push(view.getInt32(index * 4, true));
          break;
        default:
          throw new RangeError(`initializer ${tensor.name}: reading data type ${tensor.dataType} as numbers is not supported`);
      }
    }
    return values;
  }

  async close(): Promise<void> {
    for (const handle of this.handles.values()) await (await handle).close();
    this.handles.clear();
  }

  externalRange(tensor: OnnxTypes.ITensorProto): ExternalRange {
    const entries = new Map((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
    const location = entries.get('location');
    if (!location) {
      throw new ModelFileError({ path: basename(this.path), location: dirname(this.path), problem: 'unreadable', message: `initializer ${tensor.name} of ${this.path} is external but names no location` });
    }
    return {
      location,
      path: join(dirname(this.path), location),
      offset: Number(entries.get('offset') ?? 0),
      length: Number(entries.get('length') ?? OnnxInitializerReader.byteLength(tensor)),
    };
  }

  private handle(path: string): Promise<FileHandle> {
    let handle = this.handles.get(path);
    if (handle === undefined) {
      handle = open(path, 'r');
      this.handles.set(path, handle);
    }
    return handle;
  }

  private async checkExternalData(): Promise<void> {
    const required = new Map<string, { location: string; bytes: number; tensor: string }>();
    for (const tensor of this.graph.initializer ?? []) {
      if (!this.isExternal(tensor)) continue;
      const range = this.externalRange(tensor);
      const end = range.offset + range.length;
      if (end > (required.get(range.path)?.bytes ?? -1)) required.set(range.path, { location: range.location, bytes: end, tensor: tensor.name ?? '' });
    }
    const folder = dirname(this.path);
    for (const [path, need] of required) {
      let actualBytes: number;
      try {
        actualBytes = (await stat(path)).size;
      } catch (cause) {
        throw new ModelFileError({
          path: need.location,
          location: folder,
          problem: 'missing',
          cause,
          message: `Model file "${need.location}" does not exist in ${folder}; ${basename(this.path)} keeps its weights there`,
        });
      }
      if (actualBytes < need.bytes) {
        throw new ModelFileError({
          path: need.location,
          location: folder,
          problem: 'short',
          expectedBytes: need.bytes,
          actualBytes,
          message:
            `Model file "${need.location}" in ${folder} is shorter than ${basename(this.path)} needs ` +
            `(expected at least ${need.bytes} bytes for initializer ${need.tensor}, got ${actualBytes}); the download is probably incomplete`,
        });
      }
    }
  }
}

function inlineBytes(tensor: OnnxTypes.ITensorProto): Uint8Array {
  if (tensor.rawData && tensor.rawData.length > 0) return tensor.rawData;
  // Typed fields, which some exporters use for small tensors.
  if (tensor.floatData && tensor.floatData.length > 0) return new Uint8Array(Float32Array.from(tensor.floatData).buffer);
  if (tensor.int64Data && tensor.int64Data.length > 0) {
    return new Uint8Array(BigInt64Array.from(tensor.int64Data, (value) => BigInt(String(value))).buffer);
  }
  if (tensor.int32Data && tensor.int32Data.length > 0) {
    const values = tensor.int32Data;
    if (tensor.dataType === TENSOR_TYPES.float16) return new Uint8Array(Uint16Array.from(values).buffer);
    if (tensor.dataType === TENSOR_TYPES.int32) return new Uint8Array(Int32Array.from(values).buffer);
    return Uint8Array.from(values, (value) => value & 0xff);
  }
  return new Uint8Array(0);
}
