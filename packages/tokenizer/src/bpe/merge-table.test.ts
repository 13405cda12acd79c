import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/corpus';
import { MergeTable, maximumMergeCount } from './merge-table';

describe('MergeTable', () => {
  it('finds every pair it was given, with its rank, and nothing else', () => {
    const random = seededRandom(7);
    const reference = new Map<string, number>();
    const count = 20_000;
    const table = new MergeTable(count);
    for (let rank = 0; rank < count; rank++) {
      // Small ids collide often; large ones (up to 2^31 - 1) check that any 32-bit id fits.
      const scale = rank % 2 === 0 ? 300 : 2 ** 31;
      const left = Math.floor(random() * scale);
      const right = Math.floor(random() * scale);
      table.set(left, right, rank);
      reference.set(`${left} ${right}`, rank);
    }
    expect(table.size).toBe(reference.size);
    for (const [key, rank] of reference) {
      const [left, right] = key.split(' ').map(Number) as [number, number];
      expect(table.rankOf(left, right)).toBe(rank);
    }
    for (let probe = 0; probe < 20_000; probe++) {
      const left = Math.floor(random() * 400);
      const right = Math.floor(random() * 400);
      expect(table.rankOf(left, right)).toBe(reference.get(`${left} ${right}`) ?? -1);
    }
  });

  it('lets a later rank of the same pair replace the earlier one, as Hugging Face does', () => {
    const table = new MergeTable(3);
    table.set(4, 5, 0);
    table.set(6, 7, 1);
    table.set(4, 5, 2);
    expect(table.size).toBe(2);
    expect(table.rankOf(4, 5)).toBe(2);
    expect(table.rankOf(5, 4)).toBe(-1);
  });

  it('keeps the merged id per rank, unresolved (-1) until set', () => {
    const table = new MergeTable(2);
    table.set(1, 2, 0);
    table.set(3, 4, 1);
    expect(table.mergedIdOf(1)).toBe(-1);
    table.setMergedId(1, 99);
    expect(table.mergedIdOf(1)).toBe(99);
    expect(table.mergedIdOf(0)).toBe(-1);
  });

  it('refuses more ranks than a slot can hold', () => {
    expect(() => new MergeTable(maximumMergeCount)).toThrow(RangeError);
  });
});
