import { forEachProtobufField, forEachProtobufMessage } from './onnx-protobuf-fields';

/**
 * The n-th external data file of a model: `x.onnx` → `x.onnx_data`, `x.onnx_data_1`, … — the
 * names transformers.js and onnxruntime expect, written by the converter and the quantizer and
 * looked for by the browser cache.
 */
export function externalDataFileName(modelFileName: string, index: number): string {
  return index === 0 ? `${modelFileName}_data` : `${modelFileName}_data_${index}`;
}

/** Where one initializer's bytes live outside the `.onnx` file (`TensorProto.external_data`). */
export interface ExternalDataReference {
  /** The data file, relative to the model's folder (`decoder_model_merged_q4.onnx_data`). */
  location: string;
  /** Byte offset in that file; 0 when the model gives none. */
  offset: number;
  /** Byte count; undefined when the model gives none (the rest of the file). */
  length: number | undefined;
}

/**
 * The external data reference of every initializer that has one, in graph order. A minimal
 * protobuf walk: ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto.external_data
 * (13) → StringStringEntryProto key (1) / value (2); nothing else is decoded. When an entry
 * key repeats within one initializer the last one counts, as in onnxruntime.
 */
export function externalDataReferences(model: Uint8Array): ExternalDataReference[] {
  const references: ExternalDataReference[] = [];
  const decoder = new TextDecoder();
  forEachProtobufMessage(model, 7, (graph) => {
    forEachProtobufMessage(graph, 5, (tensor) => {
      const entries = new Map<string, string>();
      forEachProtobufMessage(tensor, 13, (entry) => {
        let key = '';
        let value = '';
        forEachProtobufField(entry, (text) => {
          if (text.wireType !== 2) return;
          if (text.field === 1) key = decoder.decode(text.bytes);
          else if (text.field === 2) value = decoder.decode(text.bytes);
        });
        entries.set(key, value);
      });
      const location = entries.get('location');
      if (location === undefined) return;
      const length = entries.get('length');
      references.push({ location, offset: Number(entries.get('offset') ?? 0), length: length === undefined ? undefined : Number(length) });
    });
  });
  return references;
}

/**
 * Which external data files an ONNX model's initializers name, in first-use order. A model
 * given as a path must be handed to onnxruntime-web together with these files: unlike
 * onnxruntime-node it does not look next to the model by itself.
 */
export function externalDataLocations(model: Uint8Array): string[] {
  return [...new Set(externalDataReferences(model).map((reference) => reference.location))];
}

/**
 * How many bytes each external data file must hold at least (the largest `offset + length`
 * read from it), in first-use order. Checking sizes before onnxruntime opens the model turns
 * its "Deserialize tensor … out of bounds" after a short download into "expected N bytes, got M".
 */
export function externalDataRequirements(model: Uint8Array): Map<string, number> {
  const required = new Map<string, number>();
  for (const { location, offset, length } of externalDataReferences(model)) {
    required.set(location, Math.max(required.get(location) ?? 0, offset + (length ?? 0)));
  }
  return required;
}
