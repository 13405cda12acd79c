import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodePerLayerTableHeader, type PerLayerTableLayout } from '@gemma3n/core';

/**
 * Writes a per-layer table file row block by row block, in order, under a temporary name;
 * `finish` checks every row was written, flushes and renames it into place, `abort` deletes it.
 * A present file is therefore always complete.
 */
export class PerLayerTableFileWriter {
  private rowsWritten = 0;
  private state: 'open' | 'finished' | 'aborted' = 'open';

  private constructor(
    readonly path: string,
    readonly layout: PerLayerTableLayout,
    private readonly temporaryPath: string,
    private readonly handle: FileHandle,
    private readonly dataStart: number,
  ) {}

  static async create(path: string, layout: PerLayerTableLayout): Promise<PerLayerTableFileWriter> {
    await mkdir(dirname(path), { recursive: true });
    const temporaryPath = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    const handle = await open(temporaryPath, 'w');
    const header = encodePerLayerTableHeader(layout);
    try {
      await writeFully(handle, header, 0);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temporaryPath, { force: true });
      throw error;
    }
    return new PerLayerTableFileWriter(path, layout, temporaryPath, handle, header.byteLength);
  }

  /** Bytes the finished file has: header + rows · recordBytes. */
  get fileBytes(): number {
    return this.dataStart + this.layout.rows * this.layout.recordBytes;
  }

  /** Appends whole records (`records.byteLength` must be a multiple of recordBytes). */
  async writeRecords(records: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new Error(`${this.path}: the writer is already ${this.state}`);
    const { recordBytes, rows } = this.layout;
    if (records.byteLength % recordBytes !== 0) {
      throw new RangeError(`${this.path}: ${records.byteLength} bytes are not whole ${recordBytes}-byte records`);
    }
    const count = records.byteLength / recordBytes;
    if (this.rowsWritten + count > rows) throw new RangeError(`${this.path}: writing ${count} more rows would pass the table's ${rows}`);
    await writeFully(this.handle, records, this.dataStart + this.rowsWritten * recordBytes);
    this.rowsWritten += count;
  }

  async finish(): Promise<void> {
    if (this.state !== 'open') throw new Error(`${this.path}: the writer is already ${this.state}`);
    if (this.rowsWritten !== this.layout.rows) {
      await this.abort();
      throw new Error(`${this.path}: ${this.rowsWritten} of ${this.layout.rows} rows were written`);
    }
    this.state = 'finished';
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temporaryPath, this.path);
    } catch (error) {
      await rm(this.temporaryPath, { force: true });
      throw error;
    }
  }

  /** Deletes the temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.handle.close().catch(() => undefined);
    await rm(this.temporaryPath, { force: true });
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written);
    written += bytesWritten;
  }
}

/** Creates a writer, runs `fill`, finishes; aborts (deleting the temporary file) if `fill` throws. */
export async function writePerLayerTableFile(
  path: string,
  layout: PerLayerTableLayout,
  fill: (writer: PerLayerTableFileWriter) => Promise<void>,
): Promise<{ path: string; fileBytes: number }> {
  const writer = await PerLayerTableFileWriter.create(path, layout);
  try {
    await fill(writer);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.finish();
  return { path, fileBytes: writer.fileBytes };
}
