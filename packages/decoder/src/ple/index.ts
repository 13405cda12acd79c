/**
 * PLE offload, runtime side: the per-layer embedding table read per token from a row file
 * through ModelFiles ranges (browser-safe), instead of held inside the embed_tokens session.
 */
// The file's layout and header are defined once, in @gemma3n/core; re-exported here as before.
export {
  MAX_PER_LAYER_TABLE_HEADER_BYTES,
  PER_LAYER_TABLE_DATA_ALIGNMENT,
  PER_LAYER_TABLE_FORMAT,
  PER_LAYER_TABLE_TENSOR,
  PER_LAYER_TABLE_VERSION,
  encodePerLayerTableHeader,
  parsePerLayerTableHeader,
  perLayerTableLayout,
  type PerLayerDataType,
  type PerLayerScaleType,
  type PerLayerTableHeader,
  type PerLayerTableLayout,
  type PerLayerTableLayoutParams,
} from '@gemma3n/core';
export { decodePerLayerRecord } from './per-layer-record-decoder';
export { PerLayerTableReader, type PerLayerTableReaderOptions, type PerLayerTableReaderStats } from './per-layer-table-reader';
export {
  DEFAULT_MINIMUM_OFFLOAD_BYTES,
  OffloadedEmbedSession,
  offloadedEmbedFiles,
  planPerLayerOffload,
  type PerLayerOffloadPlan,
  type PleOffloadChoice,
} from './offloaded-embed-session';
