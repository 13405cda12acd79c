/**
 * PLE offload, converter side: the per-layer embedding table as a row file read per token
 * (`embed_tokens_per_layer{suffix}.safetensors`) and the embed graph without it
 * (`embed_tokens_text{suffix}.onnx`), from a checkpoint or from an existing embed_tokens*.onnx.
 */
// The file's record layout and header (perLayerTableLayout, encodePerLayerTableHeader, …) are
// defined once, in @gemma3n/core, which the writers below use.
export {
  PER_LAYER_BLOCK_SIZE,
  PER_LAYER_TABLE_ENCODINGS,
  encodePerLayerRows,
  float32ToFloat16Bits,
  layoutForEncoding,
  type PerLayerTableEncoding,
} from './per-layer-table-encoders';
export { PerLayerTableFileWriter, writePerLayerTableFile } from './per-layer-table-file-writer';
export {
  perLayerTableFileName,
  textEmbedFileName,
  writePerLayerOffloadFiles,
  writePerLayerTableFromCheckpoint,
  type WritePerLayerTableOptions,
} from './write-per-layer-table';
export { OnnxInitializerReader } from './onnx-initializer-reader';
export { findPerLayerTable, type FoundPerLayerTable, type PerLayerTableForm } from './find-per-layer-table';
export { perLayerRecordSource, type PerLayerRecordSource } from './per-layer-table-records';
export { writeTextEmbedGraph } from './write-text-embed-graph';
export {
  offloadPerLayerEmbeddings,
  runOffloadPleCommand,
  type OffloadCommandOutput,
  type OffloadedEmbedFile,
  type OffloadPerLayerEmbeddingsOptions,
} from './offload-per-layer-embeddings';
