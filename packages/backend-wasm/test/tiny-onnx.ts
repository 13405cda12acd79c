/**
 * Hand-encodes a two-node ONNX model (`Y = X + W`, W a [1,3] float initializer) as protobuf, so
 * the backend is tested on a real model without depending on the converter. With
 * `externalFile`, W's bytes live in that external data file instead of the model.
 */
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
const field = (number: number, wireType: number) => varint(number * 8 + wireType);
const integer = (number: number, value: number) => [...field(number, 0), ...varint(value)];
const bytesField = (number: number, payload: ArrayLike<number>) => [...field(number, 2), ...varint(payload.length), ...Array.from(payload)];
const text = (number: number, value: string) => bytesField(number, new TextEncoder().encode(value));

function valueInfo(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((dim) => bytesField(1, integer(1, dim)));
  const tensorType = [...integer(1, 1), ...bytesField(2, shape)];
  return [...text(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

export const tinyWeights = Float32Array.from([1, 2, 3]);

export function tinyAddModel(externalFile?: string): { model: Uint8Array; externalData: Uint8Array } {
  const weightBytes = new Uint8Array(tinyWeights.buffer.slice(0));
  const initializer = [
    ...integer(1, 1), ...integer(1, 3), // dims
    ...integer(2, 1), // FLOAT
    ...text(8, 'W'),
    ...(externalFile === undefined
      ? bytesField(9, weightBytes)
      : [
          ...bytesField(13, [...text(1, 'location'), ...text(2, externalFile)]),
          ...bytesField(13, [...text(1, 'offset'), ...text(2, '0')]),
          ...bytesField(13, [...text(1, 'length'), ...text(2, '12')]),
          ...integer(14, 1), // EXTERNAL
        ]),
  ];
  const node = [...text(1, 'X'), ...text(1, 'W'), ...text(2, 'Y'), ...text(4, 'Add')];
  const graph = [
    ...bytesField(1, node),
    ...text(2, 'tiny'),
    ...bytesField(5, initializer),
    ...bytesField(11, valueInfo('X', [1, 3])),
    ...bytesField(12, valueInfo('Y', [1, 3])),
  ];
  const model = [...integer(1, 8), ...bytesField(8, [...text(1, ''), ...integer(2, 13)]), ...bytesField(7, graph)];
  return { model: Uint8Array.from(model), externalData: weightBytes };
}
