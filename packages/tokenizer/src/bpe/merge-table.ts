/** Ranks must stay below this: a slot packs a rank into its low 21 bits (so does MergeQueue's key). */
export const maximumMergeCount = 2 ** 21;
const rankBits = 21;
const rankMask = maximumMergeCount - 1;
const emptySlot = -1;

/**
 * BPE merges keyed by a pair of token ids, in typed arrays: no string keys and no per-entry
 * objects. A merge is known by its rank (its index in `model.merges`).
 *
 * - `pairs` holds, per rank, the left id, the right id and the merged id (-1 until resolved),
 *   side by side, so the three share a cache line.
 * - `slots` is an open-addressing hash table from the pair to its rank. A slot packs the rank
 *   (low 21 bits) with 10 more bits of the pair's hash, so a probe that meets another pair
 *   almost never reads `pairs`.
 *
 * For Gemma's 515k merges that is 4 MiB of slots (2^20, half full) and 6 MiB of pairs, against
 * 16 MiB for four parallel slot arrays. Any 32-bit ids fit, so no file needs another path.
 */
export class MergeTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  private readonly pairs: Int32Array;
  private count = 0;

  /** `mergeCount` is the number of ranks (`model.merges.length`); it must be below 2^21. */
  constructor(mergeCount: number) {
    if (mergeCount >= maximumMergeCount) throw new RangeError(`at most ${maximumMergeCount - 1} merges fit a MergeTable, got ${mergeCount}`);
    let capacity = 16;
    while (capacity < mergeCount * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(emptySlot);
    this.pairs = new Int32Array(mergeCount * 3);
  }

  /** How many distinct pairs merge. */
  get size(): number {
    return this.count;
  }

  /** Sets the merge of (left, right) to `rank`; a later rank for the same pair replaces the earlier one. */
  set(left: number, right: number, rank: number): void {
    const hash = hashPair(left, right);
    const tag = tagOf(hash);
    let slot = hash & this.mask;
    for (let stored = this.slots[slot]!; stored !== emptySlot; stored = this.slots[slot]!) {
      if (stored >>> rankBits === tag && this.isPair(stored & rankMask, left, right)) break;
      slot = (slot + 1) & this.mask;
    }
    if (this.slots[slot] === emptySlot) this.count++;
    this.slots[slot] = (tag << rankBits) | rank;
    const base = rank * 3;
    this.pairs[base] = left;
    this.pairs[base + 1] = right;
    this.pairs[base + 2] = -1;
  }

  /** The rank of (left, right), or -1 when the pair never merges. */
  rankOf(left: number, right: number): number {
    const hash = hashPair(left, right);
    const tag = tagOf(hash);
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = slots[slot]!;
      if (stored === emptySlot) return -1;
      if (stored >>> rankBits === tag) {
        const rank = stored & rankMask;
        if (this.isPair(rank, left, right)) return rank;
      }
    }
  }

  /** The id the merge of `rank` produces, or -1 while unresolved. */
  mergedIdOf(rank: number): number {
    return this.pairs[rank * 3 + 2]!;
  }

  setMergedId(rank: number, mergedId: number): void {
    this.pairs[rank * 3 + 2] = mergedId;
  }

  private isPair(rank: number, left: number, right: number): boolean {
    const base = rank * 3;
    return this.pairs[base] === left && this.pairs[base + 1] === right;
  }
}

function hashPair(left: number, right: number): number {
  // murmur3's finalizer over the combined pair: every bit depends on all bits of both ids (a
  // bare multiply would leave the low bits, used as the slot, depending on low bits only).
  let hash = Math.imul(left, 0x9e3779b1) ^ right;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

/** 10 high bits of the hash (the slot uses the low ones), kept non-negative once shifted into place. */
function tagOf(hash: number): number {
  return hash >>> 22;
}
