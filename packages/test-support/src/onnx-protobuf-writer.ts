/**
 * Enough protobuf writing to hand-encode tiny ONNX models in tests, without depending on the
 * converter. Fields are plain byte arrays, nested by passing one field's bytes as another's payload.
 */

/** A base-128 varint, least significant group first. */
export function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

const fieldKey = (number: number, wireType: number) => varint(number * 8 + wireType);

/** Field `number` as a varint (wire type 0): integers, enums. */
export const integerField = (number: number, value: number): number[] => [...fieldKey(number, 0), ...varint(value)];

/** Field `number` as length-delimited bytes (wire type 2): nested messages, raw data. */
export const bytesField = (number: number, payload: ArrayLike<number>): number[] => [
  ...fieldKey(number, 2),
  ...varint(payload.length),
  ...Array.from(payload),
];

/** Field `number` as a UTF-8 string. */
export const textField = (number: number, value: string): number[] => bytesField(number, new TextEncoder().encode(value));

/** ValueInfoProto of a float tensor; string dims are symbolic (dim_param), numbers static (dim_value). */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): number[] {
  const shape = dims.flatMap((dim) => bytesField(1, typeof dim === 'number' ? integerField(1, dim) : textField(2, dim)));
  const tensorType = [...integerField(1, 1), ...bytesField(2, shape)];
  return [...textField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}
