import { type InferenceSession, Tensor } from 'onnxruntime-common';
import type { ModelSession } from '../runtime/model-session';
import type { DecoderRuntimeConfig } from '../runtime/decoder-runtime';
import { readFloats } from '../runtime/tensor-data';

/**
 * Test doubles for the two text sessions, in plain JS. The fake "model" stores the token ids
 * themselves in its KV cache (key = id, value = 2·id), so its logits can depend on the whole
 * sequence only if the caller carried the cache correctly; it checks position ids, the
 * attention mask and the past shapes on every call and throws on any mismatch, the way a real
 * graph would produce wrong numbers.
 */
export interface FakeTextModelParams {
  /** Rows of the logits (default 32). */
  vocabSize?: number;
  /** Ids from here on are "multimodal": the fake gives them the highest logit, so they must be masked. */
  firstMaskedId?: number;
  /** Layers with a KV cache (default 2). */
  cacheLayers?: number;
  contextLength?: number;
  /** Which optional inputs the decoder declares (default: all). */
  declares?: { attentionMask?: boolean; positionIds?: boolean; numLogitsToKeep?: boolean };
  /** Past dtype the decoder declares (default float32). */
  pastType?: 'float32' | 'float16';
  /** Element type the decoder declares for inputs_embeds / per_layer_inputs (default float32, as the embedder emits). */
  embeddingInputType?: 'float32' | 'float16';
  /** The next token as a function of the whole sequence so far. */
  nextToken?: (sequence: readonly number[]) => number;
  /** Milliseconds each decoder run takes, to test cancellation. */
  delayMs?: number;
}

export interface FakeTextModel {
  embedSession: ModelSession;
  decoderSession: ModelSession & { runCount: number; fedTokenCounts: number[] };
  config: DecoderRuntimeConfig;
}

/** The default rule: a deterministic walk through the low ids that depends on every earlier token. */
export function defaultFakeNextToken(vocabSize: number, firstMaskedId: number): (sequence: readonly number[]) => number {
  const textIds = Math.min(vocabSize, firstMaskedId);
  return (sequence) => {
    let hash = 7;
    for (const id of sequence) hash = (hash * 31 + id + 1) % 1_000_003;
    return 3 + (hash % (textIds - 3));
  };
}

export function createFakeTextModel(params: FakeTextModelParams = {}): FakeTextModel {
  const vocabSize = params.vocabSize ?? 32;
  const firstMaskedId = params.firstMaskedId ?? vocabSize - 2;
  const cacheLayers = params.cacheLayers ?? 2;
  const declares = { attentionMask: true, positionIds: true, numLogitsToKeep: true, ...params.declares };
  const pastType = params.pastType ?? 'float32';
  const nextToken = params.nextToken ?? defaultFakeNextToken(vocabSize, firstMaskedId);

  const embedSession: ModelSession = {
    inputNames: ['input_ids'],
    outputNames: ['inputs_embeds', 'per_layer_inputs'],
    async run(feeds) {
      const ids = feeds.input_ids!;
      const length = ids.dims[1]!;
      const values = Float32Array.from(ids.data as BigInt64Array, (id) => Number(id));
      return {
        inputs_embeds: new Tensor('float32', values, [1, length, 1]),
        per_layer_inputs: new Tensor('float32', new Float32Array(length), [1, length, 1, 1]),
      };
    },
  };

  const pastNames: string[] = [];
  for (let layer = 0; layer < cacheLayers; layer++) pastNames.push(`past_key_values.${layer}.key`, `past_key_values.${layer}.value`);
  const inputNames = ['inputs_embeds', 'per_layer_inputs'];
  if (declares.attentionMask) inputNames.push('attention_mask');
  if (declares.positionIds) inputNames.push('position_ids');
  if (declares.numLogitsToKeep) inputNames.push('num_logits_to_keep');
  inputNames.push(...pastNames);
  const embeddingInputType = params.embeddingInputType ?? 'float32';
  const inputMetadata: InferenceSession.ValueMetadata[] = [
    { name: 'inputs_embeds', isTensor: true, type: embeddingInputType, shape: ['batch_size', 'sequence_length', 1] },
    { name: 'per_layer_inputs', isTensor: true, type: embeddingInputType, shape: ['batch_size', 'sequence_length', 1, 1] },
    ...pastNames.map((name): InferenceSession.ValueMetadata => ({
      name,
      isTensor: true,
      type: pastType,
      shape: ['batch_size', 1, 'past_sequence_length', 1],
    })),
  ];

  const decoderSession: FakeTextModel['decoderSession'] = {
    runCount: 0,
    fedTokenCounts: [],
    inputNames,
    outputNames: ['logits', ...pastNames.map((name) => name.replace('past_key_values.', 'present.'))],
    inputMetadata,
    async run(feeds) {
      decoderSession.runCount++;
      if (params.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, params.delayMs));
      const embeds = feeds.inputs_embeds!;
      if (embeds.type !== embeddingInputType || feeds.per_layer_inputs!.type !== embeddingInputType) {
        throw new Error(`inputs_embeds is ${embeds.type}, the graph declares ${embeddingInputType}`);
      }
      const newIds = Array.from(readFloats(embeds, 0, embeds.size), Math.round);
      decoderSession.fedTokenCounts.push(newIds.length);
      const firstKey = feeds[pastNames[0]!]!;
      if (firstKey.type !== pastType) throw new Error(`past dtype ${firstKey.type}, graph declares ${pastType}`);
      const pastIds = readPast(firstKey);
      const pastLength = pastIds.length;
      const outputs: Record<string, Tensor> = {};
      for (let layer = 0; layer < cacheLayers; layer++) {
        const key = readPast(feeds[`past_key_values.${layer}.key`]!);
        const value = readPast(feeds[`past_key_values.${layer}.value`]!);
        if (key.length !== pastLength || value.some((entry, index) => entry !== 2 * key[index]! || key[index] !== pastIds[index])) {
          throw new Error(`layer ${layer}: past key/value do not belong to the same sequence`);
        }
        outputs[`present.${layer}.key`] = writePast(pastType, [...key, ...newIds]);
        outputs[`present.${layer}.value`] = writePast(pastType, [...value, ...newIds.map((id) => 2 * id)]);
      }
      if (declares.attentionMask) {
        const mask = feeds.attention_mask!;
        if (mask.dims[1] !== pastLength + newIds.length || Array.from(mask.data as BigInt64Array).some((entry) => entry !== 1n)) {
          throw new Error(`attention_mask has shape [${mask.dims.join(', ')}], expected [1, ${pastLength + newIds.length}] of ones`);
        }
      }
      if (declares.positionIds) {
        const positions = Array.from(feeds.position_ids!.data as BigInt64Array, Number);
        const expected = newIds.map((_, index) => pastLength + index);
        if (positions.join() !== expected.join()) throw new Error(`position_ids ${positions.join()} != ${expected.join()}`);
      }
      if (declares.numLogitsToKeep && feeds.num_logits_to_keep === undefined) throw new Error('num_logits_to_keep not fed');
      const sequence = [...pastIds, ...newIds];
      if (sequence.length > (params.contextLength ?? Infinity)) throw new Error('fed past the context length');
      const logits = new Float32Array(vocabSize);
      // A smooth distribution peaked at the rule's token, plus a tempting masked id.
      const target = nextToken(sequence);
      for (let id = 0; id < vocabSize; id++) logits[id] = -Math.abs(id - target) / 2;
      logits[target] = 4;
      if (firstMaskedId < vocabSize) logits[vocabSize - 1] = 20;
      outputs.logits = new Tensor('float32', logits, [1, 1, vocabSize]);
      return outputs;
    },
  };

  return {
    embedSession,
    decoderSession,
    config: {
      numKeyValueHeads: 1,
      headDim: 1,
      maxPositionEmbeddings: params.contextLength ?? 4096,
      vocabSizePerLayerInput: firstMaskedId,
    },
  };
}

function readPast(tensor: Tensor): number[] {
  if (tensor.dims.length !== 4 || tensor.dims[0] !== 1 || tensor.dims[1] !== 1 || tensor.dims[3] !== 1) {
    throw new Error(`past tensor has shape [${tensor.dims.join(', ')}], expected [1, 1, past, 1]`);
  }
  if (tensor.type === 'float16') return Array.from(tensor.data as Uint16Array);
  return Array.from(tensor.data as Float32Array);
}

// Float16 pasts hold the ids as raw 16-bit patterns: exact, and enough for a fake.
function writePast(type: 'float32' | 'float16', values: number[]): Tensor {
  if (type === 'float16') return new Tensor('float16', Uint16Array.from(values), [1, 1, values.length, 1]);
  return new Tensor('float32', Float32Array.from(values), [1, 1, values.length, 1]);
}
