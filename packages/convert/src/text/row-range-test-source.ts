import type { InMemoryTensorSource, TensorInfo, TensorSource } from '../tensor-source';
import type { RowRangeReader } from './row-range-source';

/**
 * Test double: an in-memory checkpoint that also reads row ranges, and refuses whole reads of
 * chosen tensors, so a test proves those tensors were streamed. Records every row read.
 */
export class RowRangeTestSource implements TensorSource, RowRangeReader {
  readonly rowReads: string[] = [];

  constructor(
    private readonly inner: InMemoryTensorSource,
    private readonly rowsOnly: (name: string) => boolean,
  ) {}

  has(name: string): boolean {
    return this.inner.has(name);
  }

  info(name: string): TensorInfo {
    return this.inner.info(name);
  }

  names(): string[] {
    return this.inner.names();
  }

  async read(name: string): Promise<Float32Array> {
    if (this.rowsOnly(name)) throw new Error(`${name} must be read by rows in this test`);
    return this.inner.read(name);
  }

  async readRows(name: string, firstRow: number, rowCount: number): Promise<Float32Array> {
    this.rowReads.push(`${name}@${firstRow}+${rowCount}`);
    const columns = this.inner.info(name).shape[1]!;
    return this.inner.get(name).slice(firstRow * columns, (firstRow + rowCount) * columns);
  }
}
