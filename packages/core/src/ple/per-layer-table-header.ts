import { ModelFileError } from '../errors/model-file-error';
import {
  isQuantizedPerLayerDataType,
  MAX_PER_LAYER_TABLE_HEADER_BYTES,
  PER_LAYER_DATA_TYPES,
  PER_LAYER_TABLE_FORMAT,
  PER_LAYER_TABLE_TENSOR,
  PER_LAYER_TABLE_VERSION,
  perLayerTableLayout,
  type PerLayerDataType,
  type PerLayerScaleType,
  type PerLayerTableLayout,
} from './per-layer-table-layout';

/**
 * Reading side of the per-layer table header (per-layer-table-layout.ts writes it): the JSON
 * length from the first 8 bytes, then the `__metadata__` checked against the layout it implies.
 * Problems are ModelFileErrors naming the file.
 */

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
  if (!PER_LAYER_DATA_TYPES.includes(dataType)) fail(`unknown data_type "${dataType}" (known: ${PER_LAYER_DATA_TYPES.join(', ')})`);
  const quantized = isQuantizedPerLayerDataType(dataType);
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
