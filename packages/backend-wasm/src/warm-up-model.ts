/**
 * The smallest useful ONNX model, `Y = Identity(X)` over one float, encoded here so that
 * `init()` can create a session and make onnxruntime-web fetch and compile its wasm then.
 * Otherwise a missing `.wasm` file would only show up at the first real model, after the
 * registry had already chosen this backend, instead of as an init failure it falls back from.
 */
import {
  protobufBytesField as bytesField,
  protobufIntegerField as integerField,
  protobufTextField as textField,
} from '@gemma3n/core';

/** ValueInfoProto of a float tensor of shape [1]. */
function floatValueInfo(name: string): number[] {
  const shape = bytesField(1, integerField(1, 1)); // TensorShapeProto.dim { dim_value: 1 }
  const tensorType = [...integerField(1, 1), ...bytesField(2, shape)]; // elem_type FLOAT, shape
  return [...textField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

export function warmUpModel(): Uint8Array {
  const node = [...textField(1, 'X'), ...textField(2, 'Y'), ...textField(4, 'Identity')];
  const graph = [...bytesField(1, node), ...textField(2, 'warm-up'), ...bytesField(11, floatValueInfo('X')), ...bytesField(12, floatValueInfo('Y'))];
  // ir_version 8, opset_import { domain "", version 13 }, graph
  return Uint8Array.from([...integerField(1, 8), ...bytesField(8, [...textField(1, ''), ...integerField(2, 13)]), ...bytesField(7, graph)]);
}
