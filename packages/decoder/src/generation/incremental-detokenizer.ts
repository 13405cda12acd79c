/** Ids arriving one at a time in, text deltas out; the deltas concatenate to the full decode. */
export interface StreamingTextDecoder {
  /** Adds one id and returns the text it completes (possibly ''). */
  push(tokenId: number): string;
  /** Ends the stream and returns whatever was held back. */
  flush(): string;
}

/** What the decoder needs from a tokenizer to turn ids into text. */
export interface TokenTextDecoder {
  /** Text of `tokenIds`, without special tokens (`<end_of_turn>` and the like). */
  decode(tokenIds: readonly number[]): string;
  /**
   * A tokenizer-aware streaming decoder, when the tokenizer has one. Gemma's needs it: Hugging
   * Face decodes a run of byte-fallback tokens that is not valid UTF-8 as one U+FFFD per byte,
   * so a valid-looking prefix of the run must not be shown before the run ends. Without it,
   * {@link IncrementalDetokenizer} is used.
   */
  createStreamingDecoder?(): StreamingTextDecoder;
}

/**
 * Turns a growing id sequence into text deltas. Decoding a lone token is wrong for byte
 * fallback (one character split over several tokens) and for tokenizers that treat the first
 * token of a string differently, so each step decodes a short window that starts a few tokens
 * back and emits only what the window adds — the prefix/read offset scheme of Hugging Face's
 * text-generation-inference. Text ending in U+FFFD is held back until the character completes.
 */
export class IncrementalDetokenizer implements StreamingTextDecoder {
  private readonly tokenIds: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;
  private emitted = '';

  constructor(private readonly decoder: TokenTextDecoder) {}

  /** Adds one token and returns the text it completes (possibly ''). */
  push(tokenId: number): string {
    this.tokenIds.push(tokenId);
    const prefixText = this.decoder.decode(this.tokenIds.slice(this.prefixOffset, this.readOffset));
    const newText = this.decoder.decode(this.tokenIds.slice(this.prefixOffset));
    if (newText.length > prefixText.length && !newText.endsWith('\uFFFD')) {
      const delta = newText.slice(prefixText.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.tokenIds.length;
      this.emitted += delta;
      return delta;
    }
    return '';
  }

  /** Text of every token pushed, decoded at once (what deltas add up to once flushed). */
  get text(): string {
    return this.decoder.decode(this.tokenIds);
  }

  /** Whatever is still held back (an incomplete character at the very end). */
  flush(): string {
    const full = this.text;
    const rest = full.startsWith(this.emitted) ? full.slice(this.emitted.length) : '';
    this.emitted = full;
    this.prefixOffset = this.readOffset = this.tokenIds.length;
    return rest;
  }
}
