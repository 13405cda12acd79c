import type { ExternalDataWriter } from './external-data-writer';
import { bytesOf, bytesPerElement, elementCount, elementTypeCode, type OnnxElementType, type TensorData } from './onnx-data-types';
import { onnx, type OnnxTypes } from './onnx-proto';

/** A dimension of a graph input or output: a static size or a symbolic name (`batch_size`). */
export type Dimension = number | string;

/**
 * Attribute values. Integers become INT, non-integer numbers FLOAT, strings STRING and integer
 * arrays INTS; wrap a value in `{ float }` / `{ floats }` when a float attribute happens to hold
 * a whole number (`alpha: { float: 1 }`).
 */
export type AttributeValue =
  | number
  | string
  | number[]
  | { float: number }
  | { floats: number[] }
  | { tensor: OnnxTypes.ITensorProto };

export interface NodeOptions {
  /** Node name relative to the scope; defaults to `<OpType>_<n>`. Outputs are `<name>/output_<i>`. */
  name?: string;
  attributes?: Record<string, AttributeValue>;
  /** Operator domain; '' (ai.onnx) by default. */
  domain?: string;
  /** How many outputs the node has (default 1). */
  outputCount?: number;
  /** Explicit output names (graph outputs such as `present.3.key`), instead of generated ones. */
  outputs?: string[];
}

/**
 * Initializer bytes: a typed array, or chunks of raw little-endian bytes with their total size
 * (used to stream a transposed weight without building the whole transposed copy).
 */
export type InitializerData =
  | TensorData
  | { byteLength: number; chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> }
  | { byteLength: number; fill: (writeAt: WriteAt) => Promise<void> };

/**
 * Writes `bytes` at `relativeOffset` inside an initializer's bytes. Lets a producer emit a
 * tensor out of order (a transpose from row blocks of its source) without holding it whole.
 */
export type WriteAt = (relativeOffset: number, bytes: Uint8Array) => Promise<void>;

export interface GraphBuilderOptions {
  graphName: string;
  /** Where large initializers go. Without one every initializer is stored inline. */
  externalData?: ExternalDataWriter;
  /** Initializers of at least this many bytes are stored externally. Default 1 KiB. */
  externalDataThresholdBytes?: number;
}

export const DEFAULT_EXTERNAL_DATA_THRESHOLD_BYTES = 1024;

/**
 * int64 tensors up to this size always stay inline: ORT reads Reshape shapes, Slice bounds and
 * reduction axes during graph resolution and refuses them from external data.
 */
const ALWAYS_INLINE_INT64_BYTES = 64 * 1024;

/**
 * Builds one ONNX graph: nodes, initializers, inputs and outputs. Values are referred to by
 * name; `node` returns the generated output names. Names are hierarchical and readable
 * (`/model/layers.3/attn/q_proj/MatMul/output_0`) through `scope`.
 */
export class OnnxGraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  readonly graphName: string;
  private readonly externalData: ExternalDataWriter | undefined;
  private readonly thresholdBytes: number;
  private readonly usedNames = new Set<string>();
  private readonly nameCounters = new Map<string, number>();
  private readonly constantCache = new Map<string, string>();
  /** Total bytes of initializers written to external data, for progress and memory notes. */
  externalBytes = 0;

  constructor(options: GraphBuilderOptions) {
    this.graphName = options.graphName;
    this.externalData = options.externalData;
    this.thresholdBytes = options.externalDataThresholdBytes ?? DEFAULT_EXTERNAL_DATA_THRESHOLD_BYTES;
  }

  /** A view that prefixes every node and initializer name with `prefix` (e.g. `/model/layers.3`). */
  scope(prefix: string): GraphScope {
    return new GraphScope(this, prefix);
  }

  input(name: string, type: OnnxElementType, dims: readonly Dimension[]): string {
    this.claimName(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` a graph output named `name` (through an Identity when the names differ). */
  output(value: string, name: string, type: OnnxElementType, dims: readonly Dimension[]): string {
    if (value !== name) this.node('Identity', [value], { name: `${name}/Identity`, outputs: [name] });
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Adds an initializer. Bytes at or above the threshold go to the external data file at once
   * and only their location is kept, so building a full-size graph holds one tensor at a time.
   */
  async initializer(name: string, type: OnnxElementType, dims: readonly number[], data: InitializerData): Promise<string> {
    this.claimName(name);
    const byteLength = isTensorData(data) ? data.byteLength : data.byteLength;
    const expectedBytes = elementCount(dims) * bytesPerElement(type);
    if (byteLength !== expectedBytes) {
      throw new Error(
        `initializer ${name}: ${type} [${dims.join(', ')}] needs ${expectedBytes} bytes, got ${byteLength}`,
      );
    }
    const tensor: OnnxTypes.ITensorProto = { name, dataType: elementTypeCode(type), dims: [...dims] };
    const keepInline =
      !this.externalData ||
      byteLength < this.thresholdBytes ||
      (type === 'int64' && byteLength <= ALWAYS_INLINE_INT64_BYTES);
    if (keepInline) {
      if (isTensorData(data)) tensor.rawData = copyBytes(bytesOf(data));
      else if ('chunks' in data) tensor.rawData = await concatenate(data.chunks, byteLength);
      else tensor.rawData = await fillInline(name, byteLength, data.fill);
    } else {
      let location;
      if (!isTensorData(data) && 'fill' in data) {
        const reserved = await this.externalData!.reserve(name, byteLength);
        await data.fill(reserved.writeAt);
        location = reserved.location;
      } else {
        location = await this.externalData!.write(name, byteLength, isTensorData(data) ? [bytesOf(data)] : data.chunks);
      }
      tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      tensor.externalData = [
        { key: 'location', value: location.location },
        { key: 'offset', value: String(location.offset) },
        { key: 'length', value: String(location.length) },
      ];
      this.externalBytes += byteLength;
    }
    this.initializers.push(tensor);
    return name;
  }

  /** An inline int64 constant (shapes, axes, slice bounds), shared by every user of the same values. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.cachedConstant('int64', values, dims, () => BigInt64Array.from(values, (value) => BigInt(value)));
  }

  /** An inline float32 constant (a scalar by default), shared by every user of the same values. */
  float32(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    return this.cachedConstant('float32', list, shape, () => Float32Array.from(list));
  }

  private cachedConstant(type: OnnxElementType, values: readonly number[], dims: readonly number[], make: () => TensorData): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const shown = values.length <= 8 ? values.map((value) => String(value)).join('_') : `${values.length}_values`;
    const name = this.uniqueName(`/model/constants/${type}_${dims.length === 0 ? 'scalar' : dims.join('x')}_${shown}`);
    this.claimName(name);
    this.initializers.push({ name, dataType: elementTypeCode(type), dims: [...dims], rawData: copyBytes(bytesOf(make())) });
    this.constantCache.set(key, name);
    return name;
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    const name = this.uniqueName(options.name ?? `/${opType}`);
    this.claimName(name);
    const outputs =
      options.outputs ??
      Array.from({ length: options.outputCount ?? 1 }, (_, index) => `${name}/output_${index}`);
    for (const output of outputs) this.claimName(output);
    const node: OnnxTypes.INodeProto = { name, opType, input: [...inputs], output: outputs };
    if (options.domain) node.domain = options.domain;
    if (options.attributes) {
      node.attribute = Object.entries(options.attributes).map(([key, value]) => attribute(key, value));
    }
    this.nodes.push(node);
    return outputs;
  }

  /** The GraphProto of everything added so far. */
  toGraphProto(): OnnxTypes.IGraphProto {
    return {
      name: this.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }

  private uniqueName(base: string): string {
    if (!this.usedNames.has(base)) return base;
    let counter = this.nameCounters.get(base) ?? 1;
    while (this.usedNames.has(`${base}_${counter}`)) counter++;
    this.nameCounters.set(base, counter + 1);
    return `${base}_${counter}`;
  }

  private claimName(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`graph ${this.graphName}: the name ${name} is already used`);
    this.usedNames.add(name);
  }
}

/** Name-prefixing view of a graph builder, one per block (`/model/layers.3/attn`). */
export class GraphScope {
  constructor(
    readonly graph: OnnxGraphBuilder,
    readonly prefix: string,
  ) {}

  scope(name: string): GraphScope {
    return new GraphScope(this.graph, `${this.prefix}/${name}`);
  }

  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string[] {
    return this.graph.node(opType, inputs, { ...options, name: `${this.prefix}/${options.name ?? opType}` });
  }

  /** A single-output node's output name. */
  op(opType: string, inputs: readonly string[], options: Omit<NodeOptions, 'outputCount'> = {}): string {
    return this.node(opType, inputs, options)[0]!;
  }

  initializer(name: string, type: OnnxElementType, dims: readonly number[], data: InitializerData): Promise<string> {
    return this.graph.initializer(`${this.prefix}/${name}`, type, dims, data);
  }

  int64(values: readonly number[], dims?: readonly number[]): string {
    return this.graph.int64(values, dims);
  }

  float32(values: number | readonly number[], dims?: readonly number[]): string {
    return this.graph.float32(values, dims);
  }
}

function valueInfo(name: string, type: OnnxElementType, dims: readonly Dimension[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elementTypeCode(type),
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  const types = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: types.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: types.INT, i: value } : { name, type: types.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    if (!value.every((entry) => Number.isInteger(entry))) {
      throw new Error(`attribute ${name}: a plain array must hold integers; wrap floats as { floats: [...] }`);
    }
    return { name, type: types.INTS, ints: value };
  }
  if ('float' in value) return { name, type: types.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: types.FLOATS, floats: value.floats };
  return { name, type: types.TENSOR, t: value.tensor };
}

function isTensorData(data: InitializerData): data is TensorData {
  return ArrayBuffer.isView(data);
}

/** Inline bytes are copied so a caller may reuse its buffer after `initializer` returns. */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return bytes.slice();
}

async function fillInline(name: string, byteLength: number, fill: (writeAt: WriteAt) => Promise<void>): Promise<Uint8Array> {
  const result = new Uint8Array(byteLength);
  await fill(async (relativeOffset, bytes) => {
    if (relativeOffset < 0 || relativeOffset + bytes.byteLength > byteLength) {
      throw new Error(`initializer ${name}: write of ${bytes.byteLength} bytes at ${relativeOffset} falls outside its ${byteLength} bytes`);
    }
    result.set(bytes, relativeOffset);
  });
  return result;
}

async function concatenate(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, byteLength: number): Promise<Uint8Array> {
  const result = new Uint8Array(byteLength);
  let offset = 0;
  for await (const chunk of chunks) {
    if (offset + chunk.byteLength > byteLength) throw new Error(`initializer chunks hold more than ${byteLength} bytes`);
    result.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== byteLength) throw new Error(`initializer chunks held ${offset} bytes, expected ${byteLength}`);
  return result;
}
