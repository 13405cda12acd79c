/**
 * Just enough protobuf to read and write the few ONNX fields this package needs, so no ONNX
 * library enters a browser bundle. (backend-wasm carries a smaller copy for external data
 * names; a shared home in core would be the next step.)
 */

/** One field of a message: a varint's value, or a length-delimited field's bytes. */
export type ProtobufField =
  | { field: number; wireType: 0; value: number }
  | { field: number; wireType: 2; bytes: Uint8Array };

/** Calls `visit` for each varint and length-delimited field of one message; skips fixed-width ones. */
export function forEachField(message: Uint8Array, visit: (field: ProtobufField) => void): void {
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

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

export const integerField = (number: number, value: number): number[] => [...varint(number * 8), ...varint(value)];
export const bytesField = (number: number, payload: readonly number[]): number[] => [
  ...varint(number * 8 + 2),
  ...varint(payload.length),
  ...payload,
];
export const textField = (number: number, value: string): number[] => bytesField(number, Array.from(new TextEncoder().encode(value)));
