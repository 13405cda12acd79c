/**
 * A BPE model's vocabulary in both directions: `idOf(piece)` and `pieceOf(id)`.
 *
 * Built once from the parsed `model.vocab` object, which is then no longer referenced: kept, it
 * is a 262k-entry dictionary (about 19 MiB with its key strings for Gemma). A dense vocabulary
 * (every Hugging Face file: ids 0…n-1, perhaps with holes) is packed; a sparse one uses Maps.
 */
export interface TokenVocabulary {
  /** One more than the largest id. */
  readonly size: number;
  /** The id of `piece`, or -1. */
  idOf(piece: string): number;
  /** The piece of `id`, or undefined for an id without a piece (or not an id at all). */
  pieceOf(id: number): string | undefined;
}

/**
 * Builds the vocabulary from pieces and their ids, in `Object.keys` order of `model.vocab`. When
 * two pieces share an id, both map to it and the later one is the id's piece, as before.
 */
export function createTokenVocabulary(pieces: readonly string[], ids: readonly number[]): TokenVocabulary {
  let largestId = -1;
  for (let index = 0; index < ids.length; index++) largestId = Math.max(largestId, ids[index]!);
  // Packed arrays are indexed by id: worth it only when ids are not far more spread than pieces.
  return largestId < pieces.length * 2 + 65_536
    ? new PackedTokenVocabulary(pieces, ids, largestId + 1)
    : new MapTokenVocabulary(pieces, ids, largestId + 1);
}

/**
 * Every piece in one string, `offsets[id]…offsets[id + 1]` being the piece of `id` (a hole is an
 * empty range), and a string → id open-addressing table of ids over an Int32Array, compared
 * against the packed text without slicing it. For Gemma's 262k pieces: 2.9 MB of text, 1 MiB of
 * offsets and 2 MiB of table.
 */
export class PackedTokenVocabulary implements TokenVocabulary {
  readonly size: number;
  private readonly packed: string;
  private readonly offsets: Int32Array;
  /** The id whose piece is the empty string, if any, to tell it from a hole. */
  private readonly emptyPieceId: number;
  private readonly mask: number;
  private readonly slots: Int32Array;
  /** Pieces whose id belongs to a later piece (a file listing two pieces with one id). */
  private readonly aliases: Map<string, number> | null;

  constructor(pieces: readonly string[], ids: readonly number[], size: number) {
    this.size = size;
    // Which piece has each id, as an index into `pieces` (a typed array: filling a 262k-slot JS
    // array in key order, which is not id order, costs about 20 ms).
    const pieceIndexOfId = new Int32Array(size).fill(-1);
    let aliases: Map<string, number> | null = null;
    for (let index = 0; index < pieces.length; index++) {
      const id = ids[index]!;
      const earlier = pieceIndexOfId[id]!;
      if (earlier !== -1) (aliases ??= new Map()).set(pieces[earlier]!, id);
      pieceIndexOfId[id] = index;
    }
    this.aliases = aliases;

    let capacity = 16;
    while (capacity < size * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.offsets = new Int32Array(size + 1);
    const piecesInIdOrder: string[] = [];
    let offset = 0;
    let emptyPieceId = -1;
    for (let id = 0; id < size; id++) {
      this.offsets[id] = offset;
      const index = pieceIndexOfId[id]!;
      if (index === -1) continue;
      const piece = pieces[index]!;
      piecesInIdOrder.push(piece);
      offset += piece.length;
      if (piece.length === 0) emptyPieceId = id;
      let slot = hashText(piece) & this.mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & this.mask;
      this.slots[slot] = id;
    }
    this.offsets[size] = offset;
    this.emptyPieceId = emptyPieceId;
    // One flat string instead of 262k string objects.
    this.packed = piecesInIdOrder.join('');
  }

  idOf(piece: string): number {
    const slots = this.slots;
    const offsets = this.offsets;
    const length = piece.length;
    for (let slot = hashText(piece) & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = slots[slot]!;
      if (id === -1) return this.aliases === null ? -1 : (this.aliases.get(piece) ?? -1);
      const start = offsets[id]!;
      if (offsets[id + 1]! - start === length && (length === 0 ? id === this.emptyPieceId : this.packed.startsWith(piece, start))) return id;
    }
  }

  pieceOf(id: number): string | undefined {
    if (!(id >= 0 && id < this.size) || !Number.isInteger(id)) return undefined;
    const start = this.offsets[id]!;
    const end = this.offsets[id + 1]!;
    if (start === end && id !== this.emptyPieceId) return undefined;
    return this.packed.slice(start, end);
  }
}

/** The general path, for ids spread far wider than the pieces. */
export class MapTokenVocabulary implements TokenVocabulary {
  readonly size: number;
  private readonly idsByPiece = new Map<string, number>();
  private readonly piecesById = new Map<number, string>();

  constructor(pieces: readonly string[], ids: readonly number[], size: number) {
    this.size = size;
    for (let index = 0; index < pieces.length; index++) {
      this.idsByPiece.set(pieces[index]!, ids[index]!);
      this.piecesById.set(ids[index]!, pieces[index]!);
    }
  }

  idOf(piece: string): number {
    return this.idsByPiece.get(piece) ?? -1;
  }

  pieceOf(id: number): string | undefined {
    return this.piecesById.get(id);
  }
}

/** FNV-1a over the UTF-16 code units, with a final mix so the low bits (the slot) see every unit. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  return hash ^ (hash >>> 13);
}
