/**
 * Just enough protobuf reading for the few ONNX fields gemma3n-js looks at before a session
 * exists (external data names, graph outputs, float16 use). Hand-written rather than a
 * protobuf library so that nothing of the sort enters a browser bundle; it decodes nothing it
 * is not asked for and never copies the (possibly large) inline weights it skips.
 */

/** One field of a message: a varint's value, or a length-delimited field's bytes (a view, not a copy). */
export type ProtobufField =
  | { field: number; wireType: 0; value: number }
  | { field: number; wireType: 2; bytes: Uint8Array };

/**
 * Calls `visit` for each varint and length-delimited field of one message, in order; skips
 * fixed-width (64- and 32-bit) fields. Throws a RangeError on a truncated message or a wire
 * type ONNX does not use (groups).
 */
export function forEachProtobufField(message: Uint8Array, visit: (field: ProtobufField) => void): void {
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
    if (wireType === 0) visit({ field, wireType, value: readVarint() });
    else if (wireType === 1) position += 8;
    else if (wireType === 5) position += 4;
    else if (wireType === 2) {
      const length = readVarint();
      const start = position;
      position += length;
      if (position > message.length) throw new RangeError('truncated protobuf field');
      visit({ field, wireType, bytes: message.subarray(start, position) });
    } else throw new RangeError(`unsupported protobuf wire type ${wireType}`);
  }
}

/** Calls `visit` with the bytes of each length-delimited field numbered `wanted` of one message. */
export function forEachProtobufMessage(message: Uint8Array, wanted: number, visit: (bytes: Uint8Array) => void): void {
  forEachProtobufField(message, (field) => {
    if (field.field === wanted && field.wireType === 2) visit(field.bytes);
  });
}
