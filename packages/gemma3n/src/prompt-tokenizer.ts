import type { ConversationMessage, StreamingTextDecoder } from '@gemma3n/decoder';

/** What the umbrella needs from a tokenizer; `@gemma3n/tokenizer`'s GemmaTokenizer is adapted to it. */
export interface PromptTokenizer {
  /** Ids of `text`; special-token text (`<start_of_turn>`) becomes its id. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(tokenIds: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The prompt text of a conversation, from the folder's chat template. */
  applyChatTemplate(messages: readonly ConversationMessage[], options: { addGenerationPrompt: boolean }): string;
  /**
   * The processor step: each image / audio placeholder the template wrote becomes its run of
   * soft tokens (`image_seq_length` / `audio_seq_length` of processor_config.json).
   */
  expandMediaPlaceholders?(text: string): string;
  /** Soft tokens per image and per clip; the Gemma 3n defaults (256, 188) when absent. */
  readonly mediaSequenceLengths?: { image: number; audio: number };
  /** Streaming decoding whose deltas add up to `decode(all, options)`; see TokenTextDecoder. */
  createStreamingDetokenizer?(options: { skipSpecialTokens?: boolean }): StreamingTextDecoder;
}
