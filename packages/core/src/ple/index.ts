/**
 * The per-layer embedding (PLE) row file: its record layout and header, written by
 * `@gemma3n/convert` and read by `@gemma3n/decoder`.
 */
export {
  MAX_PER_LAYER_TABLE_HEADER_BYTES,
  PER_LAYER_DATA_TYPES,
  PER_LAYER_SCALE_BYTES,
  PER_LAYER_TABLE_DATA_ALIGNMENT,
  PER_LAYER_TABLE_FORMAT,
  PER_LAYER_TABLE_TENSOR,
  PER_LAYER_TABLE_VERSION,
  encodePerLayerTableHeader,
  isQuantizedPerLayerDataType,
  perLayerDataBytes,
  perLayerTableLayout,
  perLayerTableMetadata,
  type PerLayerDataType,
  type PerLayerScaleType,
  type PerLayerTableLayout,
  type PerLayerTableLayoutParams,
} from './per-layer-table-layout';
export { parsePerLayerTableHeader, perLayerTableHeaderLength, type PerLayerTableHeader } from './per-layer-table-header';
