import { protobufBytesField as bytesField, protobufIntegerField as integerField, protobufTextField as textField } from '@gemma3n/core';

/** ValueInfoProto of a float tensor; string dims are symbolic (dim_param), numbers static (dim_value). */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): number[] {
  const shape = dims.flatMap((dim) => bytesField(1, typeof dim === 'number' ? integerField(1, dim) : textField(2, dim)));
  const tensorType = [...integerField(1, 1), ...bytesField(2, shape)];
  return [...textField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}
