/**
 * Turns one of our decoders into the onnx-community layout, which declares a KV cache for
 * every layer: for each shared layer i ≥ F it adds inputs `past_key_values.i.key/value`
 * (unused, as the shared layers read their producer's K/V) and outputs `present.i.key/value`
 * (Identity of the producer's present). Protobuf merges a repeated message field, so the new
 * inputs, nodes and outputs are appended to the model bytes as a second GraphProto field.
 */
import { type KvSharingPlan, protobufBytesField as bytesField, protobufTextField as textField } from '@gemma3n/core';
import { floatValueInfo } from '@gemma3n/test-models';

export function declareKvForAllLayers(model: Uint8Array, plan: KvSharingPlan, kvHeads: number, headDim: number): Uint8Array {
  const graph: number[] = [];
  for (const layer of plan.layers) {
    if (layer.storesKv) continue;
    for (const part of ['key', 'value']) {
      graph.push(...bytesField(11, floatValueInfo(`past_key_values.${layer.layerIndex}.${part}`, ['batch_size', kvHeads, 'past_sequence_length', headDim])));
      const node = [
        ...textField(1, `present.${layer.kvSourceLayer}.${part}`),
        ...textField(2, `present.${layer.layerIndex}.${part}`),
        ...textField(3, `/model/shared_present_${layer.layerIndex}_${part}`),
        ...textField(4, 'Identity'),
      ];
      graph.push(...bytesField(1, node));
      graph.push(...bytesField(12, floatValueInfo(`present.${layer.layerIndex}.${part}`, ['batch_size', kvHeads, 'total_sequence_length', headDim])));
    }
  }
  const appended = bytesField(7, graph);
  const result = new Uint8Array(model.length + appended.length);
  result.set(model);
  result.set(appended, model.length);
  return result;
}
