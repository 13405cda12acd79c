import { Tensor } from 'onnxruntime-common';
import { BackendError, InputError, ModelFileError } from '@gemma3n/core';
import type { TokenModel } from '../generation/generate-tokens';
import { checkMediaCounts, checkMediaEmbeddings, type MediaEmbedding, MediaRowCursor } from '../media/media-embeddings';
import { KvCache } from './kv-cache';
import { declaredInput, type ModelSession } from './model-session';
import { castFloatTensor, emptyFloatTensor, int64Tensor, readFloats } from './tensor-data';

/** The configuration values the runtime needs (a subset of core's Gemma3nTextConfig). */
export interface DecoderRuntimeConfig {
  numKeyValueHeads: number;
  headDim: number;
  /** The context length; no sequence may pass it. */
  maxPositionEmbeddings: number;
  /** Ids from here on are multimodal and never sampled (262144 for released models). */
  vocabSizePerLayerInput: number;
}

export interface DecoderRuntimeParams {
  /** `onnx/embed_tokens*.onnx`: `input_ids` → `inputs_embeds`, `per_layer_inputs`. */
  embedSession: ModelSession;
  /** `onnx/decoder_model_merged*.onnx`. */
  decoderSession: ModelSession;
  config: DecoderRuntimeConfig;
  /** Names for error messages, e.g. `onnx/decoder_model_merged_q4.onnx`. */
  embedFileName?: string;
  decoderFileName?: string;
  /** The backend that created the sessions, for error messages. */
  backendName?: string;
  /**
   * Longest piece a prompt is prefilled in (default 512). Attention over a whole long prompt at
   * once needs heads × S × S scores (2 GB for an 8k E2B prompt); pieces bound that to
   * heads × chunk × S and give an abort a chance between them. `Infinity` prefills at once.
   */
  prefillChunkSize?: number;
}

/** Options of one `forward` call. */
export interface ForwardOptions {
  /** Checked between prefill pieces; an abort rejects with its reason. */
  signal?: AbortSignal;
  /**
   * Encoder rows to write over the media placeholder positions of `tokenIds` (in order, per
   * token id) before the decoder runs. The counts must match the placeholders exactly.
   */
  media?: readonly MediaEmbedding[];
}

const pastPattern = /^past_key_values\.(\d+)\.(key|value)$/;

/**
 * Runs the two text sessions the way transformers.js drives them (model-folder-contract.md):
 * `embed_tokens` on the new ids, then the decoder with the past, an attention mask, position
 * ids and `num_logits_to_keep` — each fed only where the graph declares it — and `present.*`
 * carried over to `past_key_values.*`. Whatever set of layers the graph declares KV for
 * (our non-shared layers only, or all layers as some exports do) is what is fed.
 */
export class DecoderRuntime implements TokenModel {
  readonly config: DecoderRuntimeConfig;
  /** Declared past input names, in graph order. */
  readonly pastInputNames: readonly string[];
  private readonly embedSession: ModelSession;
  private readonly decoderSession: ModelSession;
  private readonly declares: { attentionMask: boolean; positionIds: boolean; numLogitsToKeep: boolean };
  private readonly emptyPast: ReadonlyMap<string, Tensor>;
  private readonly fileNames: { embed: string; decoder: string };
  /** Element types the decoder declares for the embedder's outputs, where it declares them. */
  private readonly embeddingTypes: { inputsEmbeds?: Tensor.Type; perLayerInputs?: Tensor.Type };
  private readonly backendName: string;
  private readonly prefillChunkSize: number;

  constructor(params: DecoderRuntimeParams) {
    this.config = params.config;
    this.embedSession = params.embedSession;
    this.decoderSession = params.decoderSession;
    const embedFile = params.embedFileName ?? 'embed_tokens';
    const decoderFile = params.decoderFileName ?? 'decoder_model_merged';
    this.fileNames = { embed: embedFile, decoder: decoderFile };
    this.backendName = params.backendName ?? 'unknown';
    const chunk = params.prefillChunkSize ?? 512;
    if (!(chunk === Infinity || (Number.isSafeInteger(chunk) && chunk >= 1))) {
      throw new InputError({ field: 'prefillChunkSize', value: chunk, expected: 'an integer ≥ 1, or Infinity' });
    }
    this.prefillChunkSize = chunk;
    requireNames(params.embedSession.inputNames, ['input_ids'], embedFile, 'input');
    requireNames(params.embedSession.outputNames, ['inputs_embeds', 'per_layer_inputs'], embedFile, 'output');
    requireNames(params.decoderSession.inputNames, ['inputs_embeds', 'per_layer_inputs'], decoderFile, 'input');
    requireNames(params.decoderSession.outputNames, ['logits'], decoderFile, 'output');

    const inputs = new Set(params.decoderSession.inputNames);
    this.declares = {
      attentionMask: inputs.has('attention_mask'),
      positionIds: inputs.has('position_ids'),
      numLogitsToKeep: inputs.has('num_logits_to_keep'),
    };
    this.pastInputNames = params.decoderSession.inputNames.filter((name) => pastPattern.test(name));
    const outputs = new Set(params.decoderSession.outputNames);
    const missingPresent = this.pastInputNames.map(presentNameOf).filter((name) => !outputs.has(name));
    if (missingPresent.length > 0) {
      throw new ModelFileError({
        path: decoderFile,
        problem: 'unreadable',
        message: `Model file "${decoderFile}" declares past inputs without the matching outputs: ${missingPresent.join(', ')}`,
      });
    }

    this.embeddingTypes = {
      inputsEmbeds: declaredInput(params.decoderSession, 'inputs_embeds')?.type,
      perLayerInputs: declaredInput(params.decoderSession, 'per_layer_inputs')?.type,
    };

    const emptyPast = new Map<string, Tensor>();
    for (const name of this.pastInputNames) {
      // Heads and head_dim come from the graph when static, else from config.json; the dtype
      // always from the graph (an fp16 decoder wants fp16 past tensors), else float32.
      const declared = declaredInput(params.decoderSession, name);
      const heads = staticDimension(declared?.shape[1]) ?? params.config.numKeyValueHeads;
      const headDim = staticDimension(declared?.shape[3]) ?? params.config.headDim;
      emptyPast.set(name, emptyFloatTensor(declared?.type ?? 'float32', [1, heads, 0, headDim]));
    }
    this.emptyPast = emptyPast;
  }

  get contextLength(): number {
    return this.config.maxPositionEmbeddings;
  }

  get firstMaskedId(): number {
    return this.config.vocabSizePerLayerInput;
  }

  createCache(): KvCache {
    return new KvCache();
  }

  /**
   * Feeds `tokenIds` after what `cache` holds, extends the cache, and returns the logits of
   * the last new position (the only row generation uses).
   */
  async forward(tokenIds: readonly number[], cache: KvCache, options: ForwardOptions = {}): Promise<Float32Array> {
    if (tokenIds.length === 0) throw new RangeError('forward needs at least one token');
    // Checked before anything runs, so a mismatch never reaches the engine or the cache.
    if (options.media !== undefined) {
      checkMediaEmbeddings(options.media);
      checkMediaCounts(tokenIds, options.media);
    }
    const media = options.media === undefined ? undefined : new MediaRowCursor(options.media);
    let logits: Float32Array | undefined;
    for (let start = 0; start < tokenIds.length; start += this.prefillChunkSize) {
      if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('The generation was aborted', 'AbortError');
      logits = await this.forwardPiece(tokenIds.slice(start, start + this.prefillChunkSize), cache, media);
    }
    return logits!;
  }

  private async forwardPiece(tokenIds: readonly number[], cache: KvCache, media: MediaRowCursor | undefined): Promise<Float32Array> {
    await cache.settle();
    const pastLength = cache.length;
    const newLength = tokenIds.length;
    const embedded = await this.runSession(this.embedSession, this.fileNames.embed, {
      input_ids: int64Tensor(tokenIds, [1, newLength]),
    });

    let inputsEmbeds = embedded.inputs_embeds!;
    if (media !== undefined && media.touches(tokenIds)) inputsEmbeds = mergeMediaRows(inputsEmbeds, tokenIds, media);
    const feeds: Record<string, Tensor> = {
      inputs_embeds: matchFloatType(inputsEmbeds, this.embeddingTypes.inputsEmbeds),
      per_layer_inputs: matchFloatType(embedded.per_layer_inputs!, this.embeddingTypes.perLayerInputs),
    };
    const totalLength = pastLength + newLength;
    // Batch size 1 and no padding: every position is real.
    if (this.declares.attentionMask) feeds.attention_mask = new Tensor('int64', new BigInt64Array(totalLength).fill(1n), [1, totalLength]);
    if (this.declares.positionIds) {
      feeds.position_ids = int64Tensor(Array.from({ length: newLength }, (_, index) => pastLength + index), [1, newLength]);
    }
    if (this.declares.numLogitsToKeep) feeds.num_logits_to_keep = int64Tensor([1], []);
    for (const name of this.pastInputNames) feeds[name] = cache.tensors.get(name) ?? this.emptyPast.get(name)!;

    const outputs = await this.runSession(this.decoderSession, this.fileNames.decoder, feeds);
    for (const name of this.pastInputNames) cache.tensors.set(name, outputs[presentNameOf(name)]!);
    cache.tokenIds.push(...tokenIds);

    const logits = outputs.logits!;
    const vocabSize = logits.dims[logits.dims.length - 1]!;
    const rows = logits.size / vocabSize;
    return readFloats(logits, (rows - 1) * vocabSize, vocabSize);
  }

  /** Engine errors become BackendErrors naming the session, not bare stacks from inside ORT. */
  private async runSession(session: ModelSession, file: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    try {
      return await session.run(feeds);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackendError({
        message: `Running "${file}" failed`,
        failures: [{ backend: this.backendName, reason, cause: error }],
        cause: error,
      });
    }
  }

  /**
   * `inputs_embeds` of `tokenIds` alone (no decoder run, no cache), as float32 `[ids × hidden]`.
   * Hard multimodal ids are embedded by the embedders inside embed_tokens, so this gives, e.g.,
   * the row HF pads short audio outputs with (id `vocab_size − 1`).
   */
  async embedRows(tokenIds: readonly number[]): Promise<Float32Array> {
    if (tokenIds.length === 0) return new Float32Array(0);
    const embedded = await this.runSession(this.embedSession, this.fileNames.embed, {
      input_ids: int64Tensor(tokenIds, [1, tokenIds.length]),
    });
    return readFloats(embedded.inputs_embeds!, 0, embedded.inputs_embeds!.size);
  }

  async release(): Promise<void> {
    await Promise.all([this.embedSession.release?.(), this.decoderSession.release?.()]);
  }
}

/**
 * The embedder's rows with the encoder rows written over the placeholder positions, in float32
 * (the merge is done in float32 whatever the embedder emits; matchFloatType then casts to what
 * the decoder declares, which avoids the fp16-embeddings-with-fp32-features corruption).
 */
function mergeMediaRows(embeddings: Tensor, tokenIds: readonly number[], media: MediaRowCursor): Tensor {
  const hidden = embeddings.dims[2]!;
  const values = readFloats(embeddings, 0, embeddings.size);
  media.writeInto(values, tokenIds, hidden);
  return new Tensor('float32', values, embeddings.dims);
}

function matchFloatType(tensor: Tensor, declared: Tensor.Type | undefined): Tensor {
  if (declared === undefined || declared === tensor.type) return tensor;
  if ((declared === 'float32' || declared === 'float16') && (tensor.type === 'float32' || tensor.type === 'float16')) {
    return castFloatTensor(tensor, declared);
  }
  return tensor; // not a float mismatch: let the engine report it
}

function presentNameOf(pastName: string): string {
  return pastName.replace(/^past_key_values\./, 'present.');
}

function staticDimension(dimension: number | string | undefined): number | undefined {
  return typeof dimension === 'number' && dimension > 0 ? dimension : undefined;
}

function requireNames(declared: readonly string[], needed: readonly string[], file: string, kind: string): void {
  const missing = needed.filter((name) => !declared.includes(name));
  if (missing.length === 0) return;
  throw new ModelFileError({
    path: file,
    problem: 'unreadable',
    message:
      `Model file "${file}" is not a Gemma 3n ${file.includes('embed') ? 'embedder' : 'decoder'}: ` +
      `${kind} ${missing.join(', ')} missing (it declares ${declared.join(', ') || 'none'})`,
  });
}
