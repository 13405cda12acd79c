import type { TensorSource } from '../tensor-source';
import type { WeightRowReader } from './weight-encoding';

/**
 * Optional capability of a TensorSource: reading a block of rows of a 2-D tensor. The released
 * per-layer embedding table is 262144 × 7680 values (8 GB as float32), larger than one typed
 * array may be in Node 20 and than most machines' memory, so graph builders stream the
 * embedding tables through `readRows` when the source offers it and fall back to `read`.
 */
export interface RowRangeReader {
  /** Rows [firstRow, firstRow + rowCount) of a 2-D tensor, widened to float32, row-major. */
  readRows(name: string, firstRow: number, rowCount: number): Promise<Float32Array>;
}

export function supportsRowReads(source: TensorSource): source is TensorSource & RowRangeReader {
  return typeof (source as Partial<RowRangeReader>).readRows === 'function';
}

/** About 64 MiB of float32 per row read by default. */
export const DEFAULT_ROW_BLOCK_BYTES = 64 * 1024 * 1024;

/** Whole rows per read for a block of about `blockBytes` (at least one row). */
export function rowsPerBlock(columns: number, blockBytes: number): number {
  return Math.max(1, Math.floor(blockBytes / 4 / Math.max(columns, 1)));
}

/** Rows [first, first + count) of a 2-D tensor, row-major. */
export interface RowBlock {
  first: number;
  count: number;
  values: Float32Array;
}

/**
 * Rows of a [rows, columns] checkpoint tensor as a reader: row ranges straight from the source
 * when it has `readRows`, else slices of one whole read, made on the first call and kept for
 * the following ones. Each result's length is checked.
 */
export function tensorRowReader(source: TensorSource, name: string, columns: number): WeightRowReader {
  let whole: Promise<Float32Array> | undefined;
  return async (first, count) => {
    let values: Float32Array;
    if (supportsRowReads(source)) values = await source.readRows(name, first, count);
    else {
      whole ??= source.read(name);
      values = (await whole).subarray(first * columns, (first + count) * columns);
    }
    if (values.length !== count * columns) {
      throw new Error(`readRows(${name}, ${first}, ${count}) returned ${values.length} values, expected ${count * columns}`);
    }
    return values;
  };
}

/** Reads a [rows, columns] tensor through `readRows`, a block of whole rows at a time. */
export async function* readRowBlocks(readRows: WeightRowReader, rows: number, columns: number, blockBytes = DEFAULT_ROW_BLOCK_BYTES): AsyncGenerator<RowBlock> {
  const blockRows = rowsPerBlock(columns, blockBytes);
  for (let first = 0; first < rows; first += blockRows) {
    const count = Math.min(blockRows, rows - first);
    yield { first, count, values: await readRows(first, count) };
  }
}

/** Yields the tensor's bytes a block of rows at a time. */
export async function* rowBlocks(readRows: WeightRowReader, rows: number, columns: number, blockBytes = DEFAULT_ROW_BLOCK_BYTES): AsyncGenerator<Uint8Array> {
  for await (const { values } of readRowBlocks(readRows, rows, columns, blockBytes)) {
    yield new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  }
}
