import { ModelFileError } from '@gemma3n/core';
import { float16BitsToNumber } from '../runtime/tensor-data';

/**
 * The per-layer embedding (PLE) table file: Gemma 3n's `embed_tokens_per_layer` table kept on
 * disk and read one row per token, instead of living inside the `embed_tokens` ONNX session
 * (2 GB at q8 for E2B, 8 GB at fp32).
 *
 * The container is a valid safetensors file, so standard tools can open and inspect it: an
 * 8-byte little-endian header length N, N bytes of JSON (padded with spaces so the rows start
 * on a 4096-byte boundary), then one tensor `records`, U8 `[rows, record_bytes]`. Row r of the
 * table is record r, at `dataStart + r · record_bytes`, so one positioned read (or one HTTP
 * Range request) fetches a token's row with its scales. `__metadata__` (strings, as safetensors
 * requires) says how to decode a record:
 *
 *   record = [scales: blocks × scale_type] [zero points: blocks × 1 byte, if stored] [data] [pad to 4]
 *   value[c] = (q[c] − zp[block]) · scale[block]            for quantized data, block = ⌊c / block_size⌋
 *   per_layer_inputs[s, l, p] = value[l · layer_width + p] · output_scale   (float32 arithmetic)
 *
 * which is what GatherBlockQuantized, DequantizeLinear and Cast+Mul compute, so a file made from
 * a quantized graph gives that graph's values exactly. 4-bit data is packed two values per byte,
 * low nibble first (as ONNX int4/uint4 and GatherBlockQuantized store it); zero points are never
 * packed. `zero_points` is `"stored"` or one integer used for every block (GatherBlockQuantized's
 * implicit 128 / 8 for uint8 data, 0 for symmetric int8).
 */
export const PER_LAYER_TABLE_FORMAT = 'gemma3n-per-layer-embeddings';
export const PER_LAYER_TABLE_VERSION = '1';
/** The one tensor of the file. */
export const PER_LAYER_TABLE_TENSOR = 'records';
/** Rows start at a multiple of this (page-aligned rows read well from disk and caches). */
export const PER_LAYER_TABLE_DATA_ALIGNMENT = 4096;
/** Headers are a few hundred bytes; anything far larger is not this format. */
export const MAX_PER_LAYER_TABLE_HEADER_BYTES = 1 << 20;

export type PerLayerDataType = 'float32' | 'float16' | 'int8' | 'uint8' | 'int4' | 'uint4';
export type PerLayerScaleType = 'float32' | 'float16';

/** What a writer chooses; the record offsets follow from it (perLayerTableLayout). */
export interface PerLayerTableLayoutParams {
  rows: number;
  numLayers: number;
  layerWidth: number;
  dataType: PerLayerDataType;
  /** Values per scale along the row; ignored (0) for float data. */
  blockSize?: number;
  /** Ignored for float data. Default float32. */
  scaleType?: PerLayerScaleType;
  /** `'stored'` (one byte per block in each record) or one zero point for every block. Default 0. */
  zeroPoints?: 'stored' | number;
  /** Multiplies every dequantized value (the graph's sqrt(P)); stored as float32. */
  outputScale: number;
  /** Where the table came from, for people reading the header. */
  source?: string;
}

export interface PerLayerTableLayout {
  rows: number;
  numLayers: number;
  layerWidth: number;
  /** numLayers · layerWidth values per row. */
  rowWidth: number;
  dataType: PerLayerDataType;
  /** 0 for float data. */
  blockSize: number;
  blocksPerRow: number;
  scaleType: PerLayerScaleType | 'none';
  zeroPoints: 'stored' | number;
  outputScale: number;
  scalesOffset: number;
  zeroPointsOffset: number;
  dataOffset: number;
  recordBytes: number;
  source: string;
}

const DATA_TYPES: readonly PerLayerDataType[] = ['float32', 'float16', 'int8', 'uint8', 'int4', 'uint4'];
const SCALE_BYTES: Record<PerLayerScaleType, number> = { float32: 4, float16: 2 };
/** The integer range of each quantized type (zero points must lie in it). */
const INTEGER_RANGES: Partial<Record<PerLayerDataType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int4: [-8, 7],
  uint4: [0, 15],
};

export function isQuantizedDataType(type: PerLayerDataType): boolean {
  return type !== 'float32' && type !== 'float16';
}

/** Bytes of `count` values of `type` (4-bit values packed two per byte). */
export function dataBytes(type: PerLayerDataType, count: number): number {
  if (type === 'float32') return count * 4;
  if (type === 'float16') return count * 2;
  if (type === 'int4' || type === 'uint4') return Math.ceil(count / 2);
  return count;
}

/** The record layout for a choice of data type, blocks and scales; throws on an impossible one. */
export function perLayerTableLayout(params: PerLayerTableLayoutParams): PerLayerTableLayout {
  const problem = (text: string): never => {
    throw new RangeError(`per-layer table layout: ${text}`);
  };
  for (const [name, value] of [['rows', params.rows], ['numLayers', params.numLayers], ['layerWidth', params.layerWidth]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) problem(`${name} must be a positive integer, got ${value}`);
  }
  if (!DATA_TYPES.includes(params.dataType)) problem(`unknown data type ${String(params.dataType)}`);
  if (!Number.isFinite(params.outputScale)) problem(`outputScale must be a finite number, got ${params.outputScale}`);
  const rowWidth = params.numLayers * params.layerWidth;
  const quantized = isQuantizedDataType(params.dataType);
  if ((params.dataType === 'int4' || params.dataType === 'uint4') && rowWidth % 2 !== 0) {
    problem(`4-bit rows must hold an even number of values, got ${rowWidth}`);
  }
  let blockSize = 0;
  let blocksPerRow = 0;
  let scaleType: PerLayerScaleType | 'none' = 'none';
  let zeroPoints: 'stored' | number = 0;
  if (quantized) {
    blockSize = params.blockSize ?? rowWidth;
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) problem(`blockSize must be a positive integer, got ${blockSize}`);
    blocksPerRow = Math.ceil(rowWidth / blockSize);
    scaleType = params.scaleType ?? 'float32';
    if (!(scaleType in SCALE_BYTES)) problem(`unknown scale type ${String(scaleType)}`);
    zeroPoints = params.zeroPoints ?? 0;
    if (zeroPoints !== 'stored') {
      const [low, high] = INTEGER_RANGES[params.dataType]!;
      if (!Number.isInteger(zeroPoints) || zeroPoints < low || zeroPoints > high) {
        problem(`zero point ${zeroPoints} is outside the ${params.dataType} range [${low}, ${high}]`);
      }
    }
  }
  const scalesOffset = 0;
  const zeroPointsOffset = scalesOffset + (quantized ? blocksPerRow * SCALE_BYTES[scaleType as PerLayerScaleType] : 0);
  const dataOffset = zeroPointsOffset + (zeroPoints === 'stored' ? blocksPerRow : 0);
  // Records are padded to 4 bytes so float32 scales of every record stay 4-byte aligned.
  const recordBytes = Math.ceil((dataOffset + dataBytes(params.dataType, rowWidth)) / 4) * 4;
  return {
    rows: params.rows,
    numLayers: params.numLayers,
    layerWidth: params.layerWidth,
    rowWidth,
    dataType: params.dataType,
    blockSize,
    blocksPerRow,
    scaleType,
    zeroPoints,
    outputScale: Math.fround(params.outputScale),
    scalesOffset,
    zeroPointsOffset,
    dataOffset,
    recordBytes,
    source: params.source ?? '',
  };
}

/** The `__metadata__` strings of a layout, as the file stores them. */
export function perLayerTableMetadata(layout: PerLayerTableLayout): Record<string, string> {
  return {
    format: PER_LAYER_TABLE_FORMAT,
    version: PER_LAYER_TABLE_VERSION,
    rows: String(layout.rows),
    num_layers: String(layout.numLayers),
    layer_width: String(layout.layerWidth),
    row_width: String(layout.rowWidth),
    data_type: layout.dataType,
    block_size: String(layout.blockSize),
    scale_type: layout.scaleType,
    zero_points: String(layout.zeroPoints),
    // Shortest decimal that reads back as the same float32.
    output_scale: String(layout.outputScale),
    scales_offset: String(layout.scalesOffset),
    zero_points_offset: String(layout.zeroPointsOffset),
    data_offset: String(layout.dataOffset),
    record_bytes: String(layout.recordBytes),
    source: layout.source,
  };
}

/** The file's header bytes (length prefix + padded JSON); rows follow immediately. */
export function encodePerLayerTableHeader(layout: PerLayerTableLayout): Uint8Array {
  const json = JSON.stringify({
    __metadata__: perLayerTableMetadata(layout),
    [PER_LAYER_TABLE_TENSOR]: { dtype: 'U8', shape: [layout.rows, layout.recordBytes], data_offsets: [0, layout.rows * layout.recordBytes] },
  });
  const jsonBytes = new TextEncoder().encode(json);
  const dataStart = Math.ceil((8 + jsonBytes.length) / PER_LAYER_TABLE_DATA_ALIGNMENT) * PER_LAYER_TABLE_DATA_ALIGNMENT;
  const header = new Uint8Array(dataStart).fill(0x20);
  new DataView(header.buffer).setUint32(0, dataStart - 8, true);
  header.fill(0, 4, 8);
  header.set(jsonBytes, 8);
  return header;
}

/** Where the rows start and how to decode them, parsed from a file's header. */
export interface PerLayerTableHeader {
  layout: PerLayerTableLayout;
  /** Offset of record 0: 8 + the JSON length. */
  dataStart: number;
  /** dataStart + rows · recordBytes: the size the file must have. */
  expectedFileBytes: number;
}

/** The JSON length from the first 8 bytes; `fileBytes` bounds it. */
export function perLayerTableHeaderLength(prefix: Uint8Array, path: string, location: string | undefined, fileBytes: number): number {
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  if (high !== 0 || low > MAX_PER_LAYER_TABLE_HEADER_BYTES) {
    throw new ModelFileError({
      path,
      location,
      problem: 'unreadable',
      message: `Model file "${path}" is not a per-layer embedding table: its header length ${high * 2 ** 32 + low} is not that of a ${PER_LAYER_TABLE_FORMAT} file`,
    });
  }
  if (8 + low > fileBytes) {
    throw new ModelFileError({ path, location, problem: 'short', expectedBytes: 8 + low, actualBytes: fileBytes });
  }
  return low;
}

/** Parses and checks the JSON header (everything but the file size, which the reader checks). */
export function parsePerLayerTableHeader(json: Uint8Array, path: string, location?: string): PerLayerTableHeader {
  const fail = (text: string): never => {
    throw new ModelFileError({ path, location, problem: 'unreadable', message: `Model file "${path}" is not a usable per-layer embedding table: ${text}` });
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(json));
  } catch (cause) {
    throw new ModelFileError({ path, location, problem: 'invalid-json', cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('its header is not a JSON object');
  const header = parsed as Record<string, unknown>;
  const metadata = header.__metadata__ as Record<string, unknown> | undefined;
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') fail('its header has no __metadata__');
  const text = (key: string): string => {
    const value = metadata![key];
    if (typeof value !== 'string') fail(`__metadata__.${key} is missing`);
    return value as string;
  };
  const integer = (key: string): number => {
    const value = Number(text(key));
    if (!Number.isSafeInteger(value)) fail(`__metadata__.${key} is not an integer: ${text(key)}`);
    return value;
  };
  if (text('format') !== PER_LAYER_TABLE_FORMAT) fail(`__metadata__.format is "${text('format')}", expected "${PER_LAYER_TABLE_FORMAT}"`);
  if (text('version') !== PER_LAYER_TABLE_VERSION) {
    fail(`it is version ${text('version')} of the format; this reader knows version ${PER_LAYER_TABLE_VERSION}`);
  }
  const dataType = text('data_type') as PerLayerDataType;
  if (!DATA_TYPES.includes(dataType)) fail(`unknown data_type "${dataType}" (known: ${DATA_TYPES.join(', ')})`);
  const quantized = isQuantizedDataType(dataType);
  const zeroPointText = text('zero_points');
  let layout: PerLayerTableLayout;
  try {
    layout = perLayerTableLayout({
      rows: integer('rows'),
      numLayers: integer('num_layers'),
      layerWidth: integer('layer_width'),
      dataType,
      blockSize: quantized ? integer('block_size') : undefined,
      scaleType: quantized ? (text('scale_type') as PerLayerScaleType) : undefined,
      zeroPoints: !quantized ? undefined : zeroPointText === 'stored' ? 'stored' : integer('zero_points'),
      outputScale: Number(text('output_scale')),
      source: typeof metadata!.source === 'string' ? (metadata!.source as string) : '',
    });
  } catch (error) {
    if (ModelFileError.isInstance(error)) throw error;
    return fail((error as Error).message);
  }
  // The offsets are derived, but stored too so other tools need not re-derive them; they must agree.
  for (const [key, derived] of [
    ['row_width', layout.rowWidth],
    ['scales_offset', layout.scalesOffset],
    ['zero_points_offset', layout.zeroPointsOffset],
    ['data_offset', layout.dataOffset],
    ['record_bytes', layout.recordBytes],
  ] as const) {
    if (integer(key) !== derived) fail(`__metadata__.${key} is ${integer(key)}, but the layout gives ${derived}`);
  }
  const tensor = header[PER_LAYER_TABLE_TENSOR] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | undefined;
  const recordsBytes = layout.rows * layout.recordBytes;
  const shapeMatches = Array.isArray(tensor?.shape) && tensor!.shape.length === 2 && tensor!.shape[0] === layout.rows && tensor!.shape[1] === layout.recordBytes;
  const offsetsMatch = Array.isArray(tensor?.data_offsets) && tensor!.data_offsets[0] === 0 && tensor!.data_offsets[1] === recordsBytes;
  if (tensor?.dtype !== 'U8' || !shapeMatches || !offsetsMatch) {
    fail(`its tensor "${PER_LAYER_TABLE_TENSOR}" is not U8 [${layout.rows}, ${layout.recordBytes}] at data offsets [0, ${recordsBytes}]`);
  }
  const dataStart = 8 + json.byteLength;
  return { layout, dataStart, expectedFileBytes: dataStart + recordsBytes };
}

/**
 * Decodes one record into `target[targetOffset … + rowWidth)`: dequantized (or widened) values
 * times the output scale, each step rounded to float32 as onnxruntime's float kernels round.
 */
export function decodePerLayerRecord(
  layout: PerLayerTableLayout,
  record: Uint8Array,
  target: Float32Array,
  targetOffset: number,
): void {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const width = layout.rowWidth;
  const outputScale = layout.outputScale;
  const data = layout.dataOffset;
  const round = Math.fround;
  switch (layout.dataType) {
    case 'float32':
      for (let column = 0; column < width; column++) target[targetOffset + column] = round(view.getFloat32(data + column * 4, true) * outputScale);
      return;
    case 'float16':
      for (let column = 0; column < width; column++) {
        target[targetOffset + column] = round(float16BitsToNumber(view.getUint16(data + column * 2, true)) * outputScale);
      }
      return;
    default:
      break;
  }
  const blockSize = layout.blockSize;
  const fourBit = layout.dataType === 'int4' || layout.dataType === 'uint4';
  const signed = layout.dataType === 'int8' || layout.dataType === 'int4';
  for (let block = 0; block < layout.blocksPerRow; block++) {
    const scale =
      layout.scaleType === 'float32'
        ? view.getFloat32(layout.scalesOffset + block * 4, true)
        : round(float16BitsToNumber(view.getUint16(layout.scalesOffset + block * 2, true)));
    let zeroPoint = layout.zeroPoints === 'stored' ? record[layout.zeroPointsOffset + block]! : layout.zeroPoints;
    if (layout.zeroPoints === 'stored' && signed) zeroPoint = fourBit ? ((zeroPoint & 0xf) ^ 8) - 8 : (zeroPoint << 24) >> 24;
    const end = Math.min(width, (block + 1) * blockSize);
    for (let column = block * blockSize; column < end; column++) {
      let quantized: number;
      if (fourBit) {
        const byte = record[data + (column >> 1)]!;
        const nibble = column & 1 ? byte >> 4 : byte & 0xf;
        quantized = signed ? (nibble ^ 8) - 8 : nibble;
      } else {
        const byte = record[data + column]!;
        quantized = signed ? (byte << 24) >> 24 : byte;
      }
      target[targetOffset + column] = round(round((quantized - zeroPoint) * scale) * outputScale);
    }
  }
}
