import { TokenizerError } from '@gemma3n/core';
import {
  fieldError,
  readOptionalBoolean,
  readOptionalString,
  readRecord,
  tokenizerJsonSource,
} from '../pipeline/json-fields';
import { MergeQueue, positionScale } from './merge-queue';
import { MergeTable, maximumMergeCount } from './merge-table';
import { createTokenVocabulary, type TokenVocabulary } from './token-vocabulary';

/** Words up to this many symbols are merged by rescanning a small array; longer ones use the heap. */
const scanMergeLimit = 48;
/** Pieces up to this many UTF-16 units are cached with their ids. */
const cachedPieceLength = 64;
const cacheCapacity = 65_536;
/** SentencePiece's word-boundary marker, which Gemma's normalizer writes for every space. */
const boundaryMarker = 0x2581;

/**
 * Hugging Face's BPE model (`tokenizers/src/models/bpe`): initial symbols are characters, with
 * byte fallback to `<0xNN>` tokens for characters outside the vocabulary (or `unk_token`, fused
 * when `fuse_unk`), then the lowest-ranked adjacent pair is merged, leftmost first, until no pair
 * merges.
 *
 * Speed comes from ids, not strings: merges are looked up by id pair in a typed-array hash
 * table, symbols live in reused Int32Arrays, and long words use a heap with a linked list so a
 * 100k-character word without spaces costs O(n log n).
 *
 * Gemma's pre-tokenizer leaves whole sentences as one word (spaces become `▁`, and the Split on
 * " " then finds nothing), so a plain word cache would never hit. Instead each word is cut before
 * every `▁` that follows another character, where no merge can cross, and the pieces (`▁the`)
 * are encoded and cached separately. This is exact: a merge across such a boundary would create
 * a vocabulary token containing "x▁" at that position. At load the merge results that contain
 * such a boundary are collected (Gemma 3 has one, `>▁</`), and a cut is skipped wherever one of
 * them occurs in the text across it. Files for which this cannot be shown (ignore_merges,
 * subword prefixes or suffixes, merges of byte tokens) are encoded whole.
 */
export class BpeModel {
  readonly unknownId: number;
  private readonly vocabulary: TokenVocabulary;
  private readonly merges: MergeTable;
  private readonly subwordPrefixLength: number;
  private readonly byteFallback: boolean;
  private readonly fuseUnknown: boolean;
  private readonly ignoreMerges: boolean;
  private readonly subwordPrefix: string | null;
  private readonly wordSuffix: string | null;
  /** Id of each BMP character that is in the vocabulary, else -1. */
  private readonly bmpCharacterIds = new Int32Array(65536).fill(-1);
  private readonly astralCharacterIds = new Map<number, number>();
  /** Id of `<0xNN>` for each byte, or -1 when the vocabulary lacks it. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly hasAllByteTokens: boolean;
  private readonly cutAtBoundaries: boolean;
  /** Merge results containing a cut position: the token and the offsets of its cuts. */
  private readonly crossingTokens: Array<{ text: string; cutOffsets: number[] }> = [];
  private readonly precedesCrossing = new Uint8Array(65536);
  private readonly cache = new Map<string, number[]>();
  private symbols = new Int32Array(1024);
  private previous = new Int32Array(1024);
  private next = new Int32Array(1024);
  private scanRanks = new Int32Array(scanMergeLimit);
  private readonly queue = new MergeQueue();

  constructor(value: unknown) {
    const path = 'model';
    const record = readRecord(value, path);
    if (record['type'] !== undefined && record['type'] !== 'BPE') {
      throw new TokenizerError({
        source: tokenizerJsonSource,
        message: `model.type ${JSON.stringify(record['type'])} is not supported; supported: BPE (the model of every Gemma tokenizer.json)`,
        value: record['type'],
      });
    }
    const dropout = record['dropout'];
    if (dropout !== undefined && dropout !== null && dropout !== 0) {
      throw fieldError('model.dropout', dropout, 'null or 0 (BPE dropout is a training-time option)');
    }
    this.byteFallback = readOptionalBoolean(record, 'byte_fallback', path, false);
    this.fuseUnknown = readOptionalBoolean(record, 'fuse_unk', path, false);
    this.ignoreMerges = readOptionalBoolean(record, 'ignore_merges', path, false);
    this.subwordPrefix = readOptionalString(record, 'continuing_subword_prefix', path);
    this.wordSuffix = readOptionalString(record, 'end_of_word_suffix', path);

    // The parsed vocabulary object is already a hash table keyed by the pieces: the merges below
    // are looked up in it. It is not kept (the tokenizer must not hold the parsed JSON), so the
    // pieces are copied into a compact TokenVocabulary for use after loading.
    const vocab = readRecord(record['vocab'], 'model.vocab') as Record<string, unknown>;
    const pieces = Object.keys(vocab);
    const ids: number[] = [];
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index]!;
      const id = vocab[piece];
      // Ids are stored in Int32Arrays (merges, characters); no vocabulary comes near 2^31 tokens.
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= 2 ** 31) {
        throw fieldError(`model.vocab[${JSON.stringify(piece)}]`, id, 'a non-negative integer id below 2^31');
      }
      ids.push(id);
      const first = piece.charCodeAt(0);
      if (piece.length === 1) this.bmpCharacterIds[first] = id;
      else if (piece.length === 2 && first >= 0xd800 && first <= 0xdbff) this.astralCharacterIds.set(piece.codePointAt(0)!, id);
    }
    this.vocabulary = createTokenVocabulary(pieces, ids);
    for (let byte = 0; byte < 256; byte++) {
      const id = this.tokenToId(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) this.byteIds[byte] = id;
    }
    this.hasAllByteTokens = !this.byteIds.includes(-1);

    const unknownToken = readOptionalString(record, 'unk_token', path);
    this.unknownId = unknownToken === null ? -1 : (this.tokenToId(unknownToken) ?? -1);
    if (unknownToken !== null && this.unknownId === -1) {
      throw fieldError('model.unk_token', unknownToken, 'a token of model.vocab');
    }

    const merges = record['merges'];
    if (!Array.isArray(merges)) throw fieldError('model.merges', merges, 'an array');
    if (merges.length >= maximumMergeCount) throw fieldError('model.merges', merges, `fewer than 2^21 merges`);
    this.merges = new MergeTable(merges.length);
    const prefixLength = this.subwordPrefix?.length ?? 0;
    this.subwordPrefixLength = prefixLength;
    let mergesTouchBytes = false;
    const crossingTexts: string[] = [];
    for (let rank = 0; rank < merges.length; rank++) {
      const entry = merges[rank];
      const [left, right] = Array.isArray(entry) && entry.length === 2 ? (entry as [string, string]) : readMerge(entry, rank);
      // Inherited names ("constructor") are not numbers, so typeof alone rejects them.
      const leftId = vocab[left];
      const rightId = vocab[right];
      if (typeof leftId !== 'number' || typeof rightId !== 'number') {
        throw fieldError(`model.merges[${rank}]`, entry, `tokens of model.vocab (${JSON.stringify(typeof leftId !== 'number' ? left : right)} is not)`);
      }
      // The merged token's id is looked up when the merge is first applied (see mergedIdOf):
      // concatenating and hashing 515k strings up front costs about 120 ms, and an
      // encoder uses a small fraction of the merges.
      this.merges.set(leftId, rightId, rank);
      if (left.length === 6 || right.length === 6) {
        if (isByteToken(left) || isByteToken(right)) mergesTouchBytes = true;
      }
      const joinIsCut = right.charCodeAt(prefixLength) === boundaryMarker && left.charCodeAt(left.length - 1) !== boundaryMarker;
      if (joinIsCut || containsCut(left) || containsCut(right)) crossingTexts.push(left + right.slice(prefixLength));
    }

    this.cutAtBoundaries =
      !this.ignoreMerges && this.subwordPrefix === null && this.wordSuffix === null && !mergesTouchBytes && crossingTexts.length <= 4096;
    for (const text of crossingTexts) {
      const cutOffsets: number[] = [];
      for (let offset = 1; offset < text.length; offset++) {
        if (text.charCodeAt(offset) === boundaryMarker && text.charCodeAt(offset - 1) !== boundaryMarker) {
          cutOffsets.push(offset);
          this.precedesCrossing[text.charCodeAt(offset - 1)] = 1;
        }
      }
      this.crossingTokens.push({ text, cutOffsets });
    }
  }

  /** One more than the largest id of the model vocabulary. */
  get vocabularySize(): number {
    return this.vocabulary.size;
  }

  /** The id of a piece of the model vocabulary, or undefined. */
  tokenToId(piece: string): number | undefined {
    const id = this.vocabulary.idOf(piece);
    return id === -1 ? undefined : id;
  }

  /** The piece of an id, or undefined for an id without one. */
  idToToken(id: number): string | undefined {
    return this.vocabulary.pieceOf(id);
  }

  /** Encodes one pre-tokenized word, appending its ids to `output`. */
  encodeWord(word: string, output: number[]): void {
    if (word.length === 0) return;
    if (this.ignoreMerges) {
      const id = this.tokenToId(word);
      if (id !== undefined) {
        output.push(id);
        return;
      }
    }
    if (!this.cutAtBoundaries) {
      this.encodePiece(word, output);
      return;
    }
    let pieceStart = 0;
    for (let position = word.indexOf('\u2581', 1); position !== -1; position = word.indexOf('\u2581', position + 1)) {
      if (word.charCodeAt(position - 1) === boundaryMarker) continue;
      if (this.precedesCrossing[word.charCodeAt(position - 1)] === 1 && this.crossingTokenAt(word, position)) continue;
      this.encodeCachedPiece(word, pieceStart, position, output);
      pieceStart = position;
    }
    this.encodeCachedPiece(word, pieceStart, word.length, output);
  }

  clearCache(): void {
    this.cache.clear();
  }

  private crossingTokenAt(word: string, position: number): boolean {
    for (const token of this.crossingTokens) {
      for (const offset of token.cutOffsets) {
        if (position - offset >= 0 && word.startsWith(token.text, position - offset)) return true;
      }
    }
    return false;
  }

  private encodeCachedPiece(word: string, start: number, end: number, output: number[]): void {
    if (end - start > cachedPieceLength) {
      this.encodePiece(word.slice(start, end), output);
      return;
    }
    const piece = word.slice(start, end);
    const cached = this.cache.get(piece);
    if (cached !== undefined) {
      for (let index = 0; index < cached.length; index++) output.push(cached[index]!);
      return;
    }
    const ids: number[] = [];
    this.encodePiece(piece, ids);
    if (this.cache.size >= cacheCapacity) this.cache.clear();
    this.cache.set(piece, ids);
    for (let index = 0; index < ids.length; index++) output.push(ids[index]!);
  }

  /** BPE over the whole piece: initial symbols, then merges. */
  private encodePiece(piece: string, output: number[]): void {
    const count = this.initialSymbols(piece);
    if (count === 0) return;
    const finalCount = count <= scanMergeLimit ? this.mergeByScanning(count) : this.mergeWithQueue(count);
    const symbols = this.symbols;
    if (count <= scanMergeLimit) {
      for (let index = 0; index < finalCount; index++) output.push(symbols[index]!);
    } else {
      for (let index = 0; index !== -1; index = this.next[index]!) output.push(symbols[index]!);
    }
  }

  /** Fills `symbols` with the ids of the piece's characters (byte fallback / unk applied). */
  private initialSymbols(piece: string): number {
    this.ensureCapacity(piece.length * 4 + 4);
    const symbols = this.symbols;
    let count = 0;
    let pendingUnknown = false;
    const length = piece.length;
    for (let position = 0; position < length; ) {
      const codePoint = piece.codePointAt(position)!;
      const units = codePoint > 0xffff ? 2 : 1;
      const isFirst = position === 0;
      position += units;
      const isLast = position >= length;
      let text: string | null = null;
      let id: number;
      if (this.subwordPrefix === null && this.wordSuffix === null) {
        id = codePoint <= 0xffff ? this.bmpCharacterIds[codePoint]! : (this.astralCharacterIds.get(codePoint) ?? -1);
      } else {
        text = String.fromCodePoint(codePoint);
        if (!isFirst && this.subwordPrefix !== null) text = this.subwordPrefix + text;
        if (isLast && this.wordSuffix !== null) text = text + this.wordSuffix;
        id = this.tokenToId(text) ?? -1;
      }
      if (id !== -1) {
        if (pendingUnknown) {
          symbols[count++] = this.unknownId;
          pendingUnknown = false;
        }
        symbols[count++] = id;
        continue;
      }
      if (this.byteFallback && this.hasAllByteTokens) {
        // Hugging Face falls back on the bytes of the (prefixed) symbol text; with no prefix or
        // suffix that is the character's UTF-8.
        if (text === null) count = this.appendUtf8ByteIds(codePoint, count);
        else for (const byte of new TextEncoder().encode(text)) symbols[count++] = this.byteIds[byte]!;
        continue;
      }
      if (this.unknownId !== -1) {
        if (pendingUnknown && !this.fuseUnknown) symbols[count++] = this.unknownId;
        pendingUnknown = true;
      }
      // Without byte fallback or unk_token a character outside the vocabulary is dropped, as in Hugging Face.
    }
    if (pendingUnknown) symbols[count++] = this.unknownId;
    return count;
  }

  private appendUtf8ByteIds(codePoint: number, count: number): number {
    const symbols = this.symbols;
    const byteIds = this.byteIds;
    if (codePoint < 0x80) {
      symbols[count++] = byteIds[codePoint]!;
    } else if (codePoint < 0x800) {
      symbols[count++] = byteIds[0xc0 | (codePoint >> 6)]!;
      symbols[count++] = byteIds[0x80 | (codePoint & 0x3f)]!;
    } else if (codePoint < 0x10000) {
      // A lone surrogate has no UTF-8 form; like TextEncoder and Rust's lossy conversion, it becomes U+FFFD.
      const encoded = codePoint >= 0xd800 && codePoint <= 0xdfff ? 0xfffd : codePoint;
      symbols[count++] = byteIds[0xe0 | (encoded >> 12)]!;
      symbols[count++] = byteIds[0x80 | ((encoded >> 6) & 0x3f)]!;
      symbols[count++] = byteIds[0x80 | (encoded & 0x3f)]!;
    } else {
      symbols[count++] = byteIds[0xf0 | (codePoint >> 18)]!;
      symbols[count++] = byteIds[0x80 | ((codePoint >> 12) & 0x3f)]!;
      symbols[count++] = byteIds[0x80 | ((codePoint >> 6) & 0x3f)]!;
      symbols[count++] = byteIds[0x80 | (codePoint & 0x3f)]!;
    }
    return count;
  }

  /** Short words: keep the pair ranks in an array and rescan it for the lowest rank. */
  private mergeByScanning(count: number): number {
    const symbols = this.symbols;
    const ranks = this.scanRanks;
    const merges = this.merges;
    for (let index = 0; index + 1 < count; index++) ranks[index] = merges.rankOf(symbols[index]!, symbols[index + 1]!);
    let length = count;
    while (length > 1) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let index = 0; index + 1 < length; index++) {
        const rank = ranks[index]!;
        if (rank !== -1 && rank < bestRank) {
          bestRank = rank;
          best = index;
        }
      }
      if (best === -1) break;
      symbols[best] = this.mergedIdOf(bestRank, symbols[best]!, symbols[best + 1]!);
      for (let index = best + 1; index + 1 < length; index++) {
        symbols[index] = symbols[index + 1]!;
        ranks[index] = ranks[index + 1]!;
      }
      length--;
      if (best > 0) ranks[best - 1] = merges.rankOf(symbols[best - 1]!, symbols[best]!);
      if (best + 1 < length) ranks[best] = merges.rankOf(symbols[best]!, symbols[best + 1]!);
    }
    return length;
  }

  /**
   * Long words: a linked list over `symbols` and a heap of (rank, position). A popped entry is
   * stale when its left symbol was absorbed or the pair under it changed; comparing the current
   * pair's rank with the popped one detects both, since every rank is one merge.
   */
  private mergeWithQueue(count: number): number {
    const symbols = this.symbols;
    const previous = this.previous;
    const next = this.next;
    const merges = this.merges;
    const queue = this.queue;
    queue.clear();
    for (let index = 0; index < count; index++) {
      previous[index] = index - 1;
      next[index] = index + 1 < count ? index + 1 : -1;
    }
    for (let index = 0; index + 1 < count; index++) {
      const rank = merges.rankOf(symbols[index]!, symbols[index + 1]!);
      if (rank !== -1) queue.push(rank, index);
    }
    let length = count;
    while (queue.size > 0) {
      const key = queue.pop();
      const rank = Math.floor(key / positionScale);
      const position = key - rank * positionScale;
      // Removed symbols have previous === -2.
      if (previous[position] === -2) continue;
      const right = next[position]!;
      if (right === -1) continue;
      if (merges.rankOf(symbols[position]!, symbols[right]!) !== rank) continue;
      symbols[position] = this.mergedIdOf(rank, symbols[position]!, symbols[right]!);
      const afterRight = next[right]!;
      next[position] = afterRight;
      if (afterRight !== -1) previous[afterRight] = position;
      previous[right] = -2;
      length--;
      const before = previous[position]!;
      if (before >= 0) {
        const beforeRank = merges.rankOf(symbols[before]!, symbols[position]!);
        if (beforeRank !== -1) queue.push(beforeRank, before);
      }
      if (afterRight !== -1) {
        const afterRank = merges.rankOf(symbols[position]!, symbols[afterRight]!);
        if (afterRank !== -1) queue.push(afterRank, position);
      }
    }
    return length;
  }

  /** The id the merge of `rank` (of `left` and `right`) produces, resolved on first use. */
  private mergedIdOf(rank: number, left: number, right: number): number {
    const known = this.merges.mergedIdOf(rank);
    if (known !== -1) return known;
    const leftText = this.vocabulary.pieceOf(left)!;
    const rightText = this.vocabulary.pieceOf(right)!;
    const merged = leftText + rightText.slice(this.subwordPrefixLength);
    const id = this.tokenToId(merged);
    if (id === undefined) {
      throw fieldError(
        `model.merges[${rank}]`,
        [leftText, rightText],
        `a pair whose concatenation ${JSON.stringify(merged)} is in model.vocab`,
      );
    }
    this.merges.setMergedId(rank, id);
    return id;
  }

  private ensureCapacity(size: number): void {
    if (this.symbols.length >= size) return;
    let capacity = this.symbols.length;
    while (capacity < size) capacity *= 2;
    this.symbols = new Int32Array(capacity);
    this.previous = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }
}

function readMerge(value: unknown, rank: number): [string, string] {
  if (typeof value === 'string') {
    const parts = value.split(' ');
    if (parts.length === 2) return [parts[0]!, parts[1]!];
  } else if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
    return [value[0], value[1]];
  }
  throw fieldError(`model.merges[${rank}]`, value, 'a "left right" string or a [left, right] pair');
}

function isByteToken(token: string): boolean {
  return token.length === 6 && token.startsWith('<0x') && token.endsWith('>');
}

/** Whether `token` contains `▁` right after a character other than `▁`. */
function containsCut(token: string): boolean {
  for (let offset = token.indexOf('\u2581', 1); offset !== -1; offset = token.indexOf('\u2581', offset + 1)) {
    if (token.charCodeAt(offset - 1) !== boundaryMarker) return true;
  }
  return false;
}
