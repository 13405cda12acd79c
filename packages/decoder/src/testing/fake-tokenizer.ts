import type { TokenTextDecoder } from '../generation/incremental-detokenizer';

/**
 * A byte-level toy tokenizer for tests: id → bytes, decoded with a real UTF-8 decoder, so a
 * character split over two ids shows up as U+FFFD until its second half arrives — as with
 * SentencePiece byte fallback. `encode` is greedy longest match; special pieces are ids whose
 * text is skipped by `decode`.
 */
export class FakeTokenizer implements TokenTextDecoder {
  private readonly pieces: Uint8Array[];
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  constructor(
    readonly vocabulary: readonly (string | Uint8Array)[],
    readonly specialIds: ReadonlySet<number> = new Set(),
  ) {
    const encoder = new TextEncoder();
    this.pieces = vocabulary.map((piece) => (typeof piece === 'string' ? encoder.encode(piece) : piece));
  }

  decode(tokenIds: readonly number[]): string {
    const parts = tokenIds.filter((id) => !this.specialIds.has(id)).map((id) => this.pieces[id] ?? new Uint8Array());
    const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    return this.utf8.decode(bytes);
  }

  /** Text of a single id, special or not (like `convert_ids_to_tokens`). */
  piece(tokenId: number): string {
    return this.utf8.decode(this.pieces[tokenId] ?? new Uint8Array());
  }

  encode(text: string): number[] {
    const bytes = new TextEncoder().encode(text);
    const ids: number[] = [];
    let position = 0;
    while (position < bytes.length) {
      let bestId = -1;
      let bestLength = 0;
      this.pieces.forEach((piece, id) => {
        if (piece.length > bestLength && piece.every((byte, index) => bytes[position + index] === byte)) {
          bestId = id;
          bestLength = piece.length;
        }
      });
      if (bestId === -1) throw new Error(`FakeTokenizer cannot encode byte ${bytes[position]} at ${position}`);
      ids.push(bestId);
      position += bestLength;
    }
    return ids;
  }
}
