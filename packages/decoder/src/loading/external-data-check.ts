import { type ModelFiles, ModelFileError } from '@gemma3n/core';

/**
 * Reads which external data files an ONNX model's initializers point to and how many bytes
 * each must hold (the largest `offset + length`). The q8 `embed_tokens` of the published E2B
 * folder reads a 2,013,265,920-byte table from its `.onnx_data`; a short download makes
 * onnxruntime fail with "Deserialize tensor … out of bounds", which users cannot act on.
 * Checking sizes first turns that into "expected N bytes, got M".
 *
 * A minimal protobuf walk: ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto
 * external_data (13, key/value pairs) — nothing else is decoded.
 */
export function externalDataRequirements(model: Uint8Array): Map<string, number> {
  const required = new Map<string, number>();
  forEachField(model, (field, wireType, start, end) => {
    if (field !== 7 || wireType !== 2) return;
    forEachField(model.subarray(start, end), (graphField, graphWire, tensorStart, tensorEnd, graph) => {
      if (graphField !== 5 || graphWire !== 2) return;
      const entries = new Map<string, string>();
      forEachField(graph.subarray(tensorStart, tensorEnd), (tensorField, tensorWire, entryStart, entryEnd, tensor) => {
        if (tensorField !== 13 || tensorWire !== 2) return;
        let key = '';
        let value = '';
        forEachField(tensor.subarray(entryStart, entryEnd), (entryField, entryWire, textStart, textEnd, entry) => {
          if (entryWire !== 2) return;
          const text = new TextDecoder().decode(entry.subarray(textStart, textEnd));
          if (entryField === 1) key = text;
          else if (entryField === 2) value = text;
        });
        entries.set(key, value);
      });
      const location = entries.get('location');
      if (location === undefined) return;
      const end = Number(entries.get('offset') ?? 0) + Number(entries.get('length') ?? 0);
      required.set(location, Math.max(required.get(location) ?? 0, end));
    });
  });
  return required;
}

/**
 * Checks that every external data file `modelPath` needs exists and is long enough; throws a
 * ModelFileError naming the file otherwise (`missing`, or `short` with both sizes). Returns the
 * files as the model names them (relative to its folder) and as paths in `files`.
 */
export async function checkExternalData(
  files: ModelFiles,
  modelPath: string,
  model: Uint8Array,
): Promise<{ location: string; path: string }[]> {
  const checked: { location: string; path: string }[] = [];
  const folder = modelPath.includes('/') ? modelPath.slice(0, modelPath.lastIndexOf('/') + 1) : '';
  for (const [location, requiredBytes] of externalDataRequirements(model)) {
    const path = `${folder}${location}`;
    if (!(await files.exists(path))) {
      throw new ModelFileError({
        path,
        location: files.location,
        problem: 'missing',
        message: `Model file "${path}" does not exist in ${files.location}; ${modelPath} keeps its weights there`,
      });
    }
    const actualBytes = await files.size(path);
    if (actualBytes < requiredBytes) {
      throw new ModelFileError({ path, location: files.location, problem: 'short', expectedBytes: requiredBytes, actualBytes });
    }
    checked.push({ location, path });
  }
  return checked;
}

type FieldVisitor = (field: number, wireType: number, start: number, end: number, buffer: Uint8Array) => void;

/** Calls `visit` for each top-level field of one protobuf message; length-delimited fields get their byte range. */
function forEachField(buffer: Uint8Array, visit: FieldVisitor): void {
  let position = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (position >= buffer.length) throw new RangeError('truncated protobuf varint');
      const byte = buffer[position++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  while (position < buffer.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === 0) readVarint();
    else if (wireType === 1) position += 8;
    else if (wireType === 5) position += 4;
    else if (wireType === 2) {
      const length = readVarint();
      const start = position;
      position += length;
      if (position > buffer.length) throw new RangeError('truncated protobuf field');
      visit(field, wireType, start, position, buffer);
    } else throw new RangeError(`unsupported protobuf wire type ${wireType}`);
  }
}
