/**
 * Turns one of our decoders into the onnx-community layout, which declares a KV cache for
 * every layer: for each shared layer i ≥ F it adds inputs `past_key_values.i.key/value`
 * (unused, as the shared layers read their producer's K/V) and outputs `present.i.key/value`
 * (Identity of the producer's present). Protobuf merges a repeated message field, so the new
 * inputs, nodes and outputs are appended to the model bytes as a second GraphProto field.
 */
import type { KvSharingPlan } from '@gemma3n/core';

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
const key = (field: number, wireType: number) => varint(field * 8 + wireType);
const integer = (field: number, value: number) => [...key(field, 0), ...varint(value)];
const message = (field: number, payload: readonly number[]) => [...key(field, 2), ...varint(payload.length), ...payload];
const text = (field: number, value: string) => message(field, [...new TextEncoder().encode(value)]);

/** ValueInfoProto of a float tensor; string dims are symbolic (dim_param), numbers static (dim_value). */
function floatValueInfo(name: string, dims: readonly (number | string)[]): number[] {
  const shape = dims.flatMap((dim) => message(1, typeof dim === 'number' ? integer(1, dim) : text(2, dim)));
  const tensorType = [...integer(1, 1), ...message(2, shape)];
  return [...text(1, name), ...message(2, message(1, tensorType))];
}

export function declareKvForAllLayers(model: Uint8Array, plan: KvSharingPlan, kvHeads: number, headDim: number): Uint8Array {
  const graph: number[] = [];
  for (const layer of plan.layers) {
    if (layer.storesKv) continue;
    for (const part of ['key', 'value']) {
      graph.push(...message(11, floatValueInfo(`past_key_values.${layer.layerIndex}.${part}`, ['batch_size', kvHeads, 'past_sequence_length', headDim])));
      const node = [
        ...text(1, `present.${layer.kvSourceLayer}.${part}`),
        ...text(2, `present.${layer.layerIndex}.${part}`),
        ...text(3, `/model/shared_present_${layer.layerIndex}_${part}`),
        ...text(4, 'Identity'),
      ];
      graph.push(...message(1, node));
      graph.push(...message(12, floatValueInfo(`present.${layer.layerIndex}.${part}`, ['batch_size', kvHeads, 'total_sequence_length', headDim])));
    }
  }
  const appended = message(7, graph);
  const result = new Uint8Array(model.length + appended.length);
  result.set(model);
  result.set(appended, model.length);
  return result;
}
