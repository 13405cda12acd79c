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
 *
 * The one definition of the format: `@gemma3n/convert` writes files with it, `@gemma3n/decoder`
 * reads them (its record decoder is `ple/per-layer-record-decoder.ts`). Pure code, browser-safe.
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

/** Every data type a record may hold. */
export const PER_LAYER_DATA_TYPES: readonly PerLayerDataType[] = ['float32', 'float16', 'int8', 'uint8', 'int4', 'uint4'];
/** Bytes of one stored scale. */
export const PER_LAYER_SCALE_BYTES: Record<PerLayerScaleType, number> = { float32: 4, float16: 2 };
/** The integer range of each quantized type (zero points must lie in it). */
const INTEGER_RANGES: Partial<Record<PerLayerDataType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int4: [-8, 7],
  uint4: [0, 15],
};

export function isQuantizedPerLayerDataType(type: PerLayerDataType): boolean {
  return type !== 'float32' && type !== 'float16';
}

/** Bytes of `count` values of `type` (4-bit values packed two per byte). */
export function perLayerDataBytes(type: PerLayerDataType, count: number): number {
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
  if (!PER_LAYER_DATA_TYPES.includes(params.dataType)) problem(`unknown data type ${String(params.dataType)}`);
  if (!Number.isFinite(params.outputScale)) problem(`outputScale must be a finite number, got ${params.outputScale}`);
  const rowWidth = params.numLayers * params.layerWidth;
  const quantized = isQuantizedPerLayerDataType(params.dataType);
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
    if (!(scaleType in PER_LAYER_SCALE_BYTES)) problem(`unknown scale type ${String(scaleType)}`);
    zeroPoints = params.zeroPoints ?? 0;
    if (zeroPoints !== 'stored') {
      const [low, high] = INTEGER_RANGES[params.dataType]!;
      if (!Number.isInteger(zeroPoints) || zeroPoints < low || zeroPoints > high) {
        problem(`zero point ${zeroPoints} is outside the ${params.dataType} range [${low}, ${high}]`);
      }
    }
  }
  const scalesOffset = 0;
  const zeroPointsOffset = scalesOffset + (quantized ? blocksPerRow * PER_LAYER_SCALE_BYTES[scaleType as PerLayerScaleType] : 0);
  const dataOffset = zeroPointsOffset + (zeroPoints === 'stored' ? blocksPerRow : 0);
  // Records are padded to 4 bytes so float32 scales of every record stay 4-byte aligned.
  const recordBytes = Math.ceil((dataOffset + perLayerDataBytes(params.dataType, rowWidth)) / 4) * 4;
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
