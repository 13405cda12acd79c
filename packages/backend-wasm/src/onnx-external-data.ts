/**
 * Which external data files an ONNX model's initializers name (`TensorProto.external_data`
 * entries with key `location`), in first-use order. A model given as a path must be handed to
 * onnxruntime-web together with these files: unlike onnxruntime-node it does not look next to
 * the model by itself.
 *
 * A minimal protobuf walk — ModelProto.graph (7) → GraphProto.initializer (5) →
 * TensorProto.external_data (13) → StringStringEntryProto key (1) / value (2) — that decodes
 * nothing else and never copies the (possibly large) inline weights it skips.
 */
export function externalDataLocations(model: Uint8Array): string[] {
  const locations: string[] = [];
  const decoder = new TextDecoder();
  forEachLengthDelimitedField(model, 7, (graph) => {
    forEachLengthDelimitedField(graph, 5, (tensor) => {
      forEachLengthDelimitedField(tensor, 13, (entry) => {
        let key = '';
        let value = '';
        forEachLengthDelimitedField(entry, undefined, (text, field) => {
          if (field === 1) key = decoder.decode(text);
          else if (field === 2) value = decoder.decode(text);
        });
        if (key === 'location' && !locations.includes(value)) locations.push(value);
      });
    });
  });
  return locations;
}

/**
 * Calls `visit` with the bytes of each length-delimited field numbered `wanted` (every such
 * field when `wanted` is undefined) of one protobuf message, skipping all other fields.
 */
function forEachLengthDelimitedField(
  message: Uint8Array,
  wanted: number | undefined,
  visit: (payload: Uint8Array, field: number) => void,
): void {
  let position = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (position >= message.length) throw new RangeError('truncated protobuf varint');
      const byte = message[position++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  while (position < message.length) {
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
      if (position > message.length) throw new RangeError('truncated protobuf field');
      if (wanted === undefined || field === wanted) visit(message.subarray(start, position), field);
    } else throw new RangeError(`unsupported protobuf wire type ${wireType}`);
  }
}
