import type { GenerationDefaults, GenerationOptions } from '../generation/generation-options';
import {
  type GenerationResult,
  type GenerationStream,
  streamTokens,
  type TokenModel,
} from '../generation/generate-tokens';
import type { TokenTextDecoder } from '../generation/incremental-detokenizer';
import { checkMediaCounts, type EncoderStats, type MediaEmbedding, type PreparedMedia } from '../media/media-embeddings';
import { commonPrefixLength, type KvCache } from '../runtime/kv-cache';

/** One image or audio clip of a conversation, before encoding. */
export interface ChatMediaItem {
  /** The placeholder id its rows go to (`image_token_id` / `audio_token_id`). */
  tokenId: number;
  /** How many placeholder positions (and encoder rows) it takes. */
  rowCount: number;
  /** Equal keys mean equal encoder rows (e.g. a hash of the preprocessed input). */
  key: string;
  /** For error messages: "image", "audio". */
  label?: string;
}

/** The media of a whole conversation, for one turn. */
export interface ChatTurnMedia {
  /** Every media item of the conversation including the new message, in prompt order. */
  items: readonly ChatMediaItem[];
  /** Encodes items (only those the cache does not hold yet); `rows[i]` is `items[i]`'s `rowCount × hidden` floats. */
  encode(items: readonly ChatMediaItem[]): Promise<{ rows: readonly Float32Array[]; encoderStats?: EncoderStats }>;
}

/** A message as chat templates take it; `content` is text or the template's list of parts. */
export interface ConversationMessage {
  role: string;
  content: string | readonly unknown[];
}

export interface ChatTokenizer extends TokenTextDecoder {
  /** Ids of `text` as it is, special-token text included, adding no BOS of its own. */
  encode(text: string): number[];
}

/** Renders a conversation to prompt text (Gemma's template emits `<bos>` itself). */
export type ChatTemplate = (messages: readonly ConversationMessage[], addGenerationPrompt: boolean) => string;

export interface ChatSessionParams {
  model: TokenModel;
  cache: KvCache;
  tokenizer: ChatTokenizer;
  template: ChatTemplate;
  defaults?: GenerationDefaults;
  /** Messages the conversation starts with, e.g. a system message. */
  messages?: readonly ConversationMessage[];
  /**
   * Placeholder ids whose count is checked on every turn, with or without media (e.g. image
   * and audio soft tokens): a prompt that holds placeholders nothing fills is an InputError.
   */
  mediaTokens?: readonly { tokenId: number; label: string }[];
}

interface AssistantTurn {
  messageIndex: number;
  /** The ids the model generated for it (stop token excluded), or null to re-encode its text. */
  tokenIds: number[] | null;
}

// Private-use characters: no template trims or escapes them, and no real message holds them.
const markerOf = (turn: number) => `\u{F0000}gemma3n-assistant-${turn}\u{F0001}`;

/**
 * A conversation that keeps its KV cache between turns. Each turn renders the whole
 * conversation with the chat template, but the model's earlier answers are spliced in as the
 * ids it generated rather than re-encoded (re-encoding text can give other ids), so the
 * conversation so far is an exact prefix of the new prompt and only the new turn is prefilled.
 * When the prompt does not extend the cache (an edited history, a stop string, a failed turn),
 * the cache is cut back to the longest shared prefix. Either way the logits equal those of
 * running the whole conversation from scratch.
 */
export class ChatSession {
  readonly messages: ConversationMessage[];
  private readonly assistantTurns: AssistantTurn[] = [];
  /** Media identity of each placeholder position the cache holds (position → key). */
  private heldMediaKeys = new Map<number, string>();
  private busy = false;

  constructor(private readonly params: ChatSessionParams) {
    this.messages = [...(params.messages ?? [])];
  }

  /** The ids the KV cache holds. */
  get tokenIds(): readonly number[] {
    return this.params.cache.tokenIds;
  }

  /**
   * Adds a user message and streams the answer; the answer joins the history when it completes.
   * With `media` (the conversation's images and clips), the cache is reused only up to the
   * first placeholder position whose media differs from what the cache holds, and only the
   * items with rows after that point are encoded.
   */
  stream(content: ConversationMessage['content'], options: GenerationOptions = {}, media?: ChatTurnMedia): GenerationStream {
    if (this.busy) throw new Error('this chat session is already generating; wait for the previous turn');
    const userMessage: ConversationMessage = { role: 'user', content };
    const promptIds = this.promptIds([...this.messages, userMessage]);
    const items = media?.items ?? [];
    const unfilled = (this.params.mediaTokens ?? []).filter((token) => !items.some((item) => item.tokenId === token.tokenId));
    checkMediaCounts(promptIds, [...items, ...unfilled.map((token) => ({ ...token, rowCount: 0 }))]);
    const positionKeys = mediaPositionKeys(promptIds, items);
    const cache = this.params.cache;
    // At least the last prompt token must be fed, to get the logits that follow it.
    let reuse = Math.min(commonPrefixLength(cache.tokenIds, promptIds), promptIds.length - 1);
    for (let position = 0; position < reuse; position++) {
      if (positionKeys.get(position) !== this.heldMediaKeys.get(position)) {
        reuse = position; // same placeholder ids, other media: the rows from here on differ
        break;
      }
    }
    cache.truncate(reuse);
    // Whatever happens to this turn, the cache will hold (a prefix of) this prompt.
    this.heldMediaKeys = positionKeys;
    const inner = streamTokens({
      model: this.params.model,
      cache,
      promptIds: promptIds.slice(reuse),
      decoder: this.params.tokenizer,
      options,
      defaults: this.params.defaults,
      media: media === undefined || items.length === 0 ? undefined : () => encodeFrom(promptIds, reuse, media),
    });
    this.busy = true;
    const result = inner.result.then(
      (generation) => {
        this.busy = false;
        if (generation.finishReason !== 'cancelled') this.record(userMessage, generation);
        return generation;
      },
      (error: unknown) => {
        this.busy = false;
        throw error;
      },
    );
    result.catch(() => {});
    return { result, [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator]() };
  }

  /** Adds a user message and returns the whole answer. */
  async send(content: ConversationMessage['content'], options: GenerationOptions = {}, media?: ChatTurnMedia): Promise<GenerationResult> {
    const stream = this.stream(content, options, media);
    for await (const _delta of stream) {
      // Driving the loop.
    }
    return stream.result;
  }

  /** The full prompt ids for `messages` (plus the generation prompt), answers spliced in as ids. */
  promptIds(messages: readonly ConversationMessage[]): number[] {
    const { tokenizer, template } = this.params;
    const withMarkers = messages.map((message, index) => {
      const turn = this.assistantTurns.findIndex((entry) => entry.messageIndex === index);
      return turn === -1 ? message : { ...message, content: markerOf(turn) };
    });
    const rendered = template(withMarkers, true);
    const ids: number[] = [];
    let rest = rendered;
    for (let turn = 0; turn < this.assistantTurns.length; turn++) {
      const at = rest.indexOf(markerOf(turn));
      if (at === -1) return tokenizer.encode(template(messages, true)); // the template dropped it
      ids.push(...tokenizer.encode(rest.slice(0, at)));
      const entry = this.assistantTurns[turn]!;
      ids.push(...(entry.tokenIds ?? tokenizer.encode(textOf(messages[entry.messageIndex]!))));
      rest = rest.slice(at + markerOf(turn).length);
    }
    ids.push(...tokenizer.encode(rest));
    return ids;
  }

  /** Forgets the conversation (keeping the initial messages) and empties the cache. */
  reset(messages: readonly ConversationMessage[] = this.params.messages ?? []): void {
    this.messages.splice(0, this.messages.length, ...messages);
    this.assistantTurns.length = 0;
    this.heldMediaKeys = new Map();
    this.params.cache.clear();
  }

  private record(userMessage: ConversationMessage, generation: GenerationResult): void {
    this.messages.push(userMessage);
    const answer: ConversationMessage = { role: 'assistant', content: generation.text };
    const answerIds = generation.finishReason === 'stop' ? generation.tokenIds.slice(0, -1) : generation.tokenIds;
    // Ids are reused only when they are exactly the answer's text (not after a stop string).
    const exact = this.params.tokenizer.decode(answerIds) === generation.text;
    this.assistantTurns.push({ messageIndex: this.messages.length, tokenIds: exact ? answerIds : null });
    this.messages.push(answer);
  }
}

function textOf(message: ConversationMessage): string {
  return typeof message.content === 'string' ? message.content : '';
}

/** `key#row` of every placeholder position, assigning each token id's positions to its items in order. */
function mediaPositionKeys(promptIds: readonly number[], items: readonly ChatMediaItem[]): Map<number, string> {
  const keys = new Map<number, string>();
  const queues = new Map<number, { items: ChatMediaItem[]; item: number; row: number }>();
  for (const item of items) {
    const queue = queues.get(item.tokenId) ?? { items: [], item: 0, row: 0 };
    queue.items.push(item);
    queues.set(item.tokenId, queue);
  }
  for (const [position, id] of promptIds.entries()) {
    const queue = queues.get(id);
    if (queue === undefined) continue;
    while (queue.items[queue.item] !== undefined && queue.row >= queue.items[queue.item]!.rowCount) {
      queue.item++;
      queue.row = 0;
    }
    const item = queue.items[queue.item];
    if (item === undefined) break; // counts were checked; unreachable
    keys.set(position, `${item.key}#${queue.row}`);
    queue.row++;
  }
  return keys;
}

/** Encodes the items with rows at or after `start` and returns the rows the fed slice needs. */
async function encodeFrom(promptIds: readonly number[], start: number, media: ChatTurnMedia): Promise<PreparedMedia> {
  const skippedRows = new Map<number, number>();
  for (const id of promptIds.slice(0, start)) skippedRows.set(id, (skippedRows.get(id) ?? 0) + 1);
  const needed: { item: ChatMediaItem; firstRow: number }[] = [];
  const seenRows = new Map<number, number>();
  for (const item of media.items) {
    const before = seenRows.get(item.tokenId) ?? 0;
    seenRows.set(item.tokenId, before + item.rowCount);
    const skipped = skippedRows.get(item.tokenId) ?? 0;
    if (before + item.rowCount <= skipped) continue; // wholly in the cache
    needed.push({ item, firstRow: Math.max(0, skipped - before) });
  }
  if (needed.length === 0) return { embeddings: [] };
  const encoded = await media.encode(needed.map((entry) => entry.item));
  const embeddings: MediaEmbedding[] = needed.map(({ item, firstRow }, index) => {
    const rows = encoded.rows[index];
    if (rows === undefined || item.rowCount === 0 || rows.length % item.rowCount !== 0) {
      throw new RangeError(`the media encoder gave ${rows?.length ?? 'no'} floats for a ${item.label ?? 'media'} item of ${item.rowCount} rows`);
    }
    const hidden = rows.length / item.rowCount;
    return {
      tokenId: item.tokenId,
      rows: rows.subarray(firstRow * hidden),
      rowCount: item.rowCount - firstRow,
      label: item.label,
    };
  });
  return { embeddings, encoderStats: encoded.encoderStats };
}
