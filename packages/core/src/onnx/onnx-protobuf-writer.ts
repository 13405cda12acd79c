/**
 * Just enough protobuf writing to encode tiny ONNX models by hand (the backends' warm-up and
 * self-test graphs), so no ONNX library enters a browser bundle. Fields are built as plain
 * byte arrays and nested by passing one field's bytes as another's payload.
 */

/** A base-128 varint, least significant group first. */
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

/** Field `number` as a varint (wire type 0): integers, enums, booleans. */
export function protobufIntegerField(number: number, value: number): number[] {
  return [...varint(number * 8), ...varint(value)];
}

/** Field `number` as length-delimited bytes (wire type 2): nested messages, raw data. */
export function protobufBytesField(number: number, payload: readonly number[]): number[] {
  return [...varint(number * 8 + 2), ...varint(payload.length), ...payload];
}

/** Field `number` as a UTF-8 string. */
export function protobufTextField(number: number, value: string): number[] {
  return protobufBytesField(number, Array.from(new TextEncoder().encode(value)));
}
