import type { TensorSource } from '../tensor-source';

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

/** About 64 MiB of float32 per block. */
const ROW_BLOCK_BYTES = 64 * 1024 * 1024;

/** Yields the tensor's bytes a block of rows at a time, checking each block's length. */
export async function* rowBlocks(source: TensorSource & RowRangeReader, name: string, rows: number, columns: number): AsyncGenerator<Uint8Array> {
  const rowsPerBlock = Math.max(1, Math.floor(ROW_BLOCK_BYTES / 4 / Math.max(columns, 1)));
  for (let first = 0; first < rows; first += rowsPerBlock) {
    const count = Math.min(rowsPerBlock, rows - first);
    const block = await source.readRows(name, first, count);
    if (block.length !== count * columns) {
      throw new Error(`readRows(${name}, ${first}, ${count}) returned ${block.length} values, expected ${count * columns}`);
    }
    yield new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
  }
}
