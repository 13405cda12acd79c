/**
 * BPE merge ranks keyed by a pair of token ids, in an open-addressing hash table over typed
 * arrays: no string keys, no per-entry objects, one multiply-xor hash and usually one probe per
 * lookup. `find` returns a slot whose `rankAt` / `mergedIdAt` give the merge, or -1.
 */
export class MergeTable {
  private readonly mask: number;
  private readonly leftIds: Int32Array;
  private readonly rightIds: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mergedIds: Int32Array;
  private count = 0;

  constructor(expectedEntries: number) {
    let capacity = 16;
    while (capacity < expectedEntries * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.leftIds = new Int32Array(capacity).fill(-1);
    this.rightIds = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.mergedIds = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Sets the merge of (left, right); a later entry for the same pair replaces the earlier one. */
  set(left: number, right: number, rank: number, mergedId: number): void {
    let slot = this.slotOf(left, right);
    while (this.leftIds[slot] !== -1) {
      if (this.leftIds[slot] === left && this.rightIds[slot] === right) break;
      slot = (slot + 1) & this.mask;
    }
    if (this.leftIds[slot] === -1) this.count++;
    this.leftIds[slot] = left;
    this.rightIds[slot] = right;
    this.ranks[slot] = rank;
    this.mergedIds[slot] = mergedId;
  }

  find(left: number, right: number): number {
    let slot = this.slotOf(left, right);
    for (;;) {
      const stored = this.leftIds[slot]!;
      if (stored === -1) return -1;
      if (stored === left && this.rightIds[slot] === right) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The rank of (left, right), or -1 when the pair never merges. */
  rankOf(left: number, right: number): number {
    const slot = this.find(left, right);
    return slot === -1 ? -1 : this.ranks[slot]!;
  }

  rankAt(slot: number): number {
    return this.ranks[slot]!;
  }

  mergedIdAt(slot: number): number {
    return this.mergedIds[slot]!;
  }

  setMergedIdAt(slot: number, mergedId: number): void {
    this.mergedIds[slot] = mergedId;
  }

  private slotOf(left: number, right: number): number {
    // murmur3's finalizer over the combined pair: the low bits used as the slot depend on all
    // bits of both ids (a bare multiply would leave them depending on the low bits only).
    let hash = Math.imul(left, 0x9e3779b1) ^ right;
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    return (hash ^ (hash >>> 16)) & this.mask;
  }
}
