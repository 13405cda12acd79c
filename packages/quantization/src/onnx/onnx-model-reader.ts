import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelFileError } from '@gemma3n/core';
import { DATA_TYPE } from './onnx-nodes';
import { onnx, type OnnxTypes } from './onnx-proto';

const BYTES_PER_ELEMENT: Record<number, number> = {
  [DATA_TYPE.float32]: 4,
  [DATA_TYPE.uint8]: 1,
  [DATA_TYPE.int8]: 1,
  [DATA_TYPE.int32]: 4,
  [DATA_TYPE.int64]: 8,
  [DATA_TYPE.float16]: 2,
  9: 1, // bool
  11: 8, // double
};

/** Where an initializer's bytes are: inline in the model, or a range of an external data file. */
export type InitializerBytes =
  | { kind: 'inline'; bytes: Uint8Array }
  | { kind: 'external'; path: string; location: string; offset: number; length: number };

/**
 * A decoded `.onnx` file whose external initializers are read lazily, by offset, from the
 * `.onnx_data` files beside it; only the graph (small when the weights are external) is held
 * in memory. Close it to release the data file handles.
 */
export class OnnxModelReader {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  private constructor(
    readonly path: string,
    readonly model: OnnxTypes.ModelProto,
  ) {}

  static async open(path: string): Promise<OnnxModelReader> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new ModelFileError({ path, problem: 'missing', cause, message: `Cannot read ONNX model ${path}: ${(cause as Error).message}` });
    }
    let model: OnnxTypes.ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes);
    } catch (cause) {
      throw new ModelFileError({ path, problem: 'unreadable', cause, message: `${path} is not a valid ONNX model: ${(cause as Error).message}` });
    }
    if (!model.graph) throw new ModelFileError({ path, problem: 'unreadable', message: `${path} has no graph` });
    const reader = new OnnxModelReader(path, model);
    await reader.checkExternalData();
    return reader;
  }

  get graph(): OnnxTypes.GraphProto {
    return this.model.graph as OnnxTypes.GraphProto;
  }

  /** Byte size of an initializer's values. */
  static byteLength(tensor: OnnxTypes.ITensorProto): number {
    const width = BYTES_PER_ELEMENT[tensor.dataType ?? 0];
    if (width === undefined) throw new Error(`initializer ${tensor.name}: data type ${tensor.dataType} is not supported`);
    return elementCount(tensor) * width;
  }

  bytesOf(tensor: OnnxTypes.ITensorProto): InitializerBytes {
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const entries = new Map((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
      const location = entries.get('location');
      if (!location) throw new ModelFileError({ path: this.path, problem: 'unreadable', message: `initializer ${tensor.name} of ${this.path} is external but names no location` });
      return {
        kind: 'external',
        location,
        path: join(dirname(this.path), location),
        offset: Number(entries.get('offset') ?? 0),
        length: Number(entries.get('length') ?? OnnxModelReader.byteLength(tensor)),
      };
    }
    if (tensor.rawData && tensor.rawData.length > 0) return { kind: 'inline', bytes: tensor.rawData };
    // Typed fields (float_data, int64_data …), used by some exporters for small tensors.
    if (tensor.floatData && tensor.floatData.length > 0) return { kind: 'inline', bytes: new Uint8Array(Float32Array.from(tensor.floatData).buffer) };
    if (tensor.int64Data && tensor.int64Data.length > 0) {
      return { kind: 'inline', bytes: new Uint8Array(BigInt64Array.from(tensor.int64Data, (value) => BigInt(String(value))).buffer) };
    }
    if (tensor.int32Data && tensor.int32Data.length > 0) return { kind: 'inline', bytes: typedInt32Bytes(tensor) };
    return { kind: 'inline', bytes: new Uint8Array(0) };
  }

  /** `length` bytes of an initializer starting `start` bytes into it. */
  async readRange(tensor: OnnxTypes.ITensorProto, start: number, length: number): Promise<Uint8Array> {
    const source = this.bytesOf(tensor);
    if (source.kind === 'inline') return source.bytes.subarray(start, start + length);
    const handle = await this.handle(source.path);
    const result = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(result, done, length - done, source.offset + start + done);
      if (bytesRead === 0) {
        throw new ModelFileError({ path: source.path, problem: 'truncated', message: `${source.path} ended while reading initializer ${tensor.name}` });
      }
      done += bytesRead;
    }
    return result;
  }

  /** float32 rows [first, first + count) of a 2-D float initializer [rows, columns]. */
  async readFloatRows(tensor: OnnxTypes.ITensorProto, columns: number, first: number, count: number): Promise<Float32Array> {
    const bytes = await this.readRange(tensor, first * columns * 4, count * columns * 4);
    // Inline bytes may sit at an unaligned offset of the decoded buffer: copy them then.
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes); // a copy (Buffer.slice would be a view)
    return new Float32Array(aligned.buffer, aligned.byteOffset, count * columns);
  }

  /** The initializer's bytes in chunks of at most `chunkBytes`, read one at a time. */
  async *chunks(tensor: OnnxTypes.ITensorProto, chunkBytes = 16 * 1024 * 1024): AsyncGenerator<Uint8Array> {
    const total = OnnxModelReader.byteLength(tensor);
    for (let start = 0; start < total; start += chunkBytes) yield await this.readRange(tensor, start, Math.min(chunkBytes, total - start));
  }

  async close(): Promise<void> {
    for (const handle of this.handles.values()) await (await handle).close();
    this.handles.clear();
  }

  private handle(path: string): Promise<FileHandle> {
    let handle = this.handles.get(path);
    if (!handle) {
      handle = open(path, 'r');
      this.handles.set(path, handle);
    }
    return handle;
  }

  /** Every external data file must exist and hold every range the graph names. */
  private async checkExternalData(): Promise<void> {
    const required = new Map<string, number>();
    for (const tensor of this.graph.initializer) {
      const source = this.bytesOf(tensor);
      if (source.kind === 'external') required.set(source.path, Math.max(required.get(source.path) ?? 0, source.offset + source.length));
    }
    for (const [path, expectedBytes] of required) {
      let actualBytes: number;
      try {
        actualBytes = (await stat(path)).size;
      } catch (cause) {
        throw new ModelFileError({ path, problem: 'missing', cause, message: `External data file ${path} of ${this.path} does not exist` });
      }
      if (actualBytes < expectedBytes) throw new ModelFileError({ path, problem: 'short', expectedBytes, actualBytes });
    }
  }
}

export function elementCount(tensor: OnnxTypes.ITensorProto): number {
  return (tensor.dims ?? []).reduce<number>((product, dim) => product * Number(dim), 1);
}

export function dimsOf(tensor: OnnxTypes.ITensorProto): number[] {
  return (tensor.dims ?? []).map((dim) => Number(dim));
}

function typedInt32Bytes(tensor: OnnxTypes.ITensorProto): Uint8Array {
  const values = tensor.int32Data ?? [];
  if (tensor.dataType === DATA_TYPE.uint8 || tensor.dataType === DATA_TYPE.int8 || tensor.dataType === 9) return Uint8Array.from(values, (value) => value & 0xff);
  if (tensor.dataType === DATA_TYPE.float16) return new Uint8Array(Uint16Array.from(values).buffer);
  return new Uint8Array(Int32Array.from(values).buffer);
}
