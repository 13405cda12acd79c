import { TokenizerError } from '@gemma3n/core';

export interface StreamingDetokenizerOptions {
  /** Drop special tokens, as `decode(ids, { skipSpecialTokens: true })` does. Default false. */
  skipSpecialTokens?: boolean;
}

/** What the detokenizer needs from a tokenizer. */
export interface DetokenizerSource {
  decode(ids: readonly number[], skipSpecialTokens: boolean): string;
  /** Whether the id is a byte-fallback token (`<0xNN>`) that the decoder turns into a byte. */
  isByteToken(id: number): boolean;
  isSpecialId(id: number): boolean;
  /** Throws a TokenizerError naming the id when it has no token. */
  checkId(id: number): void;
}

/**
 * Turns ids arriving one at a time into text deltas whose concatenation equals `decode(allIds)`.
 *
 * A run of byte-fallback tokens is held until the first token after it: the run's text is only
 * known once it is complete, since Hugging Face turns a run that is not valid UTF-8 into one
 * U+FFFD per byte, so emitting a valid prefix early could contradict the final text. Every other
 * token is emitted as soon as it arrives. Multi-byte characters never split, because a vocabulary
 * piece is always whole characters and bytes only leave as a complete run.
 *
 * Each step decodes a short window (the previous token, any held bytes, the new token) and emits
 * what the window adds to the previous token's text; the previous token gives decoders that look
 * at position (Strip, Metaspace) the same context as in a full decode. Cost per id is constant.
 */
export class StreamingDetokenizer {
  private readonly skipSpecialTokens: boolean;
  private window: number[] = [];
  /** Decoded text of `window[0]` alone, or '' when the window has no anchor token yet. */
  private anchorText = '';
  private hasAnchor = false;

  constructor(private readonly source: DetokenizerSource, options: StreamingDetokenizerOptions = {}) {
    this.skipSpecialTokens = options.skipSpecialTokens ?? false;
  }

  /** Feeds one id; returns the text it completes ('' while a byte run is open or the token is skipped). */
  push(id: number): string {
    this.source.checkId(id);
    // A skipped special token vanishes before decoding, so it must not close a byte run either.
    if (this.skipSpecialTokens && this.source.isSpecialId(id)) return '';
    this.window.push(id);
    if (this.source.isByteToken(id)) return '';
    return this.emitWindow(id);
  }

  /** Feeds several ids; returns the concatenated deltas. */
  pushAll(ids: Iterable<number>): string {
    let text = '';
    for (const id of ids) text += this.push(id);
    return text;
  }

  /** Ends the stream: returns the text of a trailing byte run, if any, and resets. */
  flush(): string {
    const hasPendingBytes = this.window.length > (this.hasAnchor ? 1 : 0);
    const text = hasPendingBytes ? this.delta(this.source.decode(this.window, this.skipSpecialTokens)) : '';
    this.reset();
    return text;
  }

  /** Forgets all state, for a new, unrelated stream. */
  reset(): void {
    this.window = [];
    this.anchorText = '';
    this.hasAnchor = false;
  }

  private emitWindow(lastId: number): string {
    const text = this.delta(this.source.decode(this.window, this.skipSpecialTokens));
    this.window = [lastId];
    this.anchorText = this.source.decode(this.window, this.skipSpecialTokens);
    this.hasAnchor = true;
    return text;
  }

  private delta(windowText: string): string {
    if (!windowText.startsWith(this.anchorText)) {
      // Cannot happen with the decoders this package supports; fail loudly rather than emit wrong text.
      throw new TokenizerError({
        message: `streaming decode lost its anchor: ${JSON.stringify(windowText)} does not start with ${JSON.stringify(this.anchorText)}`,
      });
    }
    return windowText.slice(this.anchorText.length);
  }
}
