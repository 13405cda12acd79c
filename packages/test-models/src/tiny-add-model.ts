/**
 * A hand-encoded two-node ONNX model (`Y = X + W`, W a [1,3] float initializer), so backends are
 * tested on a real model without depending on the converter. With `externalFile`, W's bytes live
 * in that external data file instead of the model.
 */
import { protobufBytesField as bytesField, protobufIntegerField as integerField, protobufTextField as textField } from '@gemma3n/core';
import { floatValueInfo } from './onnx-value-info';

export const tinyWeights = Float32Array.from([1, 2, 3]);

export function tinyAddModel(externalFile?: string): { model: Uint8Array; externalData: Uint8Array } {
  const weightBytes = new Uint8Array(tinyWeights.buffer.slice(0));
  const initializer = [
    ...integerField(1, 1), ...integerField(1, 3), // dims
    ...integerField(2, 1), // FLOAT
    ...textField(8, 'W'),
    ...(externalFile === undefined
      ? bytesField(9, Array.from(weightBytes))
      : [
          ...bytesField(13, [...textField(1, 'location'), ...textField(2, externalFile)]),
          ...bytesField(13, [...textField(1, 'offset'), ...textField(2, '0')]),
          ...bytesField(13, [...textField(1, 'length'), ...textField(2, '12')]),
          ...integerField(14, 1), // EXTERNAL
        ]),
  ];
  const node = [...textField(1, 'X'), ...textField(1, 'W'), ...textField(2, 'Y'), ...textField(4, 'Add')];
  const graph = [
    ...bytesField(1, node),
    ...textField(2, 'tiny'),
    ...bytesField(5, initializer),
    ...bytesField(11, floatValueInfo('X', [1, 3])),
    ...bytesField(12, floatValueInfo('Y', [1, 3])),
  ];
  const model = [...integerField(1, 8), ...bytesField(8, [...textField(1, ''), ...integerField(2, 13)]), ...bytesField(7, graph)];
  return { model: Uint8Array.from(model), externalData: weightBytes };
}
