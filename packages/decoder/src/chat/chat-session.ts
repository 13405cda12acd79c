import type { GenerationDefaults, GenerationOptions } from '../generation/generation-options';
import {
  type GenerationResult,
  type GenerationStream,
  streamTokens,
  type TokenModel,
} from '../generation/generate-tokens';
import type { TokenTextDecoder } from '../generation/incremental-detokenizer';
import { commonPrefixLength, type KvCache } from '../runtime/kv-cache';

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
  private busy = false;

  constructor(private readonly params: ChatSessionParams) {
    this.messages = [...(params.messages ?? [])];
  }

  /** The ids the KV cache holds. */
  get tokenIds(): readonly number[] {
    return this.params.cache.tokenIds;
  }

  /** Adds a user message and streams the answer; the answer joins the history when it completes. */
  stream(content: ConversationMessage['content'], options: GenerationOptions = {}): GenerationStream {
    if (this.busy) throw new Error('this chat session is already generating; wait for the previous turn');
    const userMessage: ConversationMessage = { role: 'user', content };
    const promptIds = this.promptIds([...this.messages, userMessage]);
    const cache = this.params.cache;
    // At least the last prompt token must be fed, to get the logits that follow it.
    const reuse = Math.min(commonPrefixLength(cache.tokenIds, promptIds), promptIds.length - 1);
    cache.truncate(reuse);
    const inner = streamTokens({
      model: this.params.model,
      cache,
      promptIds: promptIds.slice(reuse),
      decoder: this.params.tokenizer,
      options,
      defaults: this.params.defaults,
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
  async send(content: ConversationMessage['content'], options: GenerationOptions = {}): Promise<GenerationResult> {
    const stream = this.stream(content, options);
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
