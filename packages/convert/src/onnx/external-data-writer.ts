import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { externalDataFileName } from '@gemma3n/core';

/** Where one initializer's bytes live: the values of TensorProto.external_data. */
export interface ExternalDataLocation {
  /** File name relative to the model file's directory. */
  location: string;
  offset: number;
  length: number;
}

export interface ExternalDataWriterOptions {
  /** Directory of the model file; data files sit beside it. */
  directory: string;
  /** The model's file name (`decoder_model_merged.onnx`); data files are `<it>_data`, `<it>_data_1`, … */
  modelFileName: string;
  /**
   * Start a new data file when the next tensor would make the current one larger than this.
   * A single tensor larger than the limit gets a file of its own (a tensor is never split).
   * Default 2 GiB, the size browsers and protobuf tooling handle.
   */
  maxFileBytes?: number;
}

export const DEFAULT_MAX_EXTERNAL_DATA_FILE_BYTES = 2 * 1024 ** 3;

/** Tensors at least this large start on a page boundary so runtimes can memory-map them. */
const PAGE_ALIGNED_TENSOR_BYTES = 64 * 1024;
const PAGE_BYTES = 4096;
const SMALL_TENSOR_ALIGNMENT = 64;

interface DataFile {
  finalName: string;
  temporaryPath: string;
  handle: FileHandle;
  size: number;
}


/**
 * Appends initializer bytes to the model's external data files as soon as they are produced,
 * so a converter never holds more than one tensor (or one chunk of it) in memory. Files are
 * written under temporary names; `commit` renames them, `abort` deletes them.
 */
export class ExternalDataWriter {
  private readonly directory: string;
  private readonly modelFileName: string;
  private readonly maxFileBytes: number;
  private readonly temporarySuffix = `.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly files: DataFile[] = [];
  private state: 'open' | 'committed' | 'aborted' = 'open';
  /** Serialises writes: `write` may be called again before the previous one finished. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ExternalDataWriterOptions) {
    this.directory = options.directory;
    this.modelFileName = options.modelFileName;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_EXTERNAL_DATA_FILE_BYTES;
    if (!(this.maxFileBytes > 0)) {
      throw new Error(`maxFileBytes must be a positive number of bytes, got ${this.maxFileBytes}`);
    }
  }

  /** Final names (relative to the directory) of the data files written so far. */
  fileNames(): string[] {
    return this.files.map((file) => file.finalName);
  }

  /**
   * Writes one tensor's bytes, given as chunks whose lengths add up to `byteLength`, and returns
   * where they went. `tensorName` only labels errors.
   */
  write(
    tensorName: string,
    byteLength: number,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<ExternalDataLocation> {
    const result = this.queue.then(() => this.writeNow(tensorName, byteLength, chunks));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async writeNow(
    tensorName: string,
    byteLength: number,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<ExternalDataLocation> {
    if (this.state !== 'open') throw new Error(`external data for ${this.modelFileName} is already ${this.state}`);
    const { file, offset } = await this.placeTensor(byteLength);
    // Padding up to the aligned offset is left as a hole: positional writes past the end of a
    // file zero-fill the gap, and the final size is fixed by the tensor's last byte.
    let position = offset;
    for await (const chunk of chunks) {
      if (position + chunk.byteLength > offset + byteLength) {
        throw new Error(
          `tensor ${tensorName}: its chunks hold more than the announced ${byteLength} bytes`,
        );
      }
      await writeFully(file.handle, chunk, position);
      position += chunk.byteLength;
    }
    if (position !== offset + byteLength) {
      throw new Error(
        `tensor ${tensorName}: announced ${byteLength} bytes but its chunks held ${position - offset}`,
      );
    }
    file.size = Math.max(file.size, position);
    return { location: file.finalName, offset, length: byteLength };
  }

  /**
   * Reserves space for one tensor whose bytes are produced out of order (a transpose written
   * from row blocks of its source); fill it with `writeAt`, offsets relative to the tensor.
   * Unwritten bytes read as zeros.
   */
  reserve(tensorName: string, byteLength: number): Promise<ReservedTensor> {
    const result = this.queue.then(async () => {
      const { file, offset } = await this.placeTensor(byteLength);
      file.size = offset + byteLength;
      const location: ExternalDataLocation = { location: file.finalName, offset, length: byteLength };
      const writeAt = async (relativeOffset: number, bytes: Uint8Array): Promise<void> => {
        if (this.state !== 'open') throw new Error(`external data for ${this.modelFileName} is already ${this.state}`);
        if (relativeOffset < 0 || relativeOffset + bytes.byteLength > byteLength) {
          throw new Error(
            `tensor ${tensorName}: write of ${bytes.byteLength} bytes at ${relativeOffset} falls outside its ${byteLength} bytes`,
          );
        }
        await writeFully(file.handle, bytes, offset + relativeOffset);
      };
      return { location, writeAt };
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The file the next tensor goes to (a new one when it would pass the limit), with its aligned offset. */
  private async placeTensor(byteLength: number): Promise<{ file: DataFile; offset: number }> {
    const alignment = byteLength >= PAGE_ALIGNED_TENSOR_BYTES ? PAGE_BYTES : SMALL_TENSOR_ALIGNMENT;
    let file = this.files[this.files.length - 1];
    let offset = file ? alignUp(file.size, alignment) : 0;
    if (!file || (file.size > 0 && offset + byteLength > this.maxFileBytes)) {
      file = await this.openNextFile();
      offset = 0;
    }
    return { file, offset };
  }

  private async openNextFile(): Promise<DataFile> {
    const finalName = externalDataFileName(this.modelFileName, this.files.length);
    const temporaryPath = join(this.directory, finalName + this.temporarySuffix);
    const handle = await open(temporaryPath, 'w');
    const file: DataFile = { finalName, temporaryPath, handle, size: 0 };
    this.files.push(file);
    return file;
  }

  /** Flushes and renames every data file to its final name; returns the final names. */
  async commit(): Promise<string[]> {
    await this.queue;
    if (this.state !== 'open') throw new Error(`external data for ${this.modelFileName} is already ${this.state}`);
    for (const file of this.files) {
      await file.handle.sync();
      await file.handle.close();
    }
    for (const file of this.files) {
      await rename(file.temporaryPath, join(this.directory, file.finalName));
    }
    this.state = 'committed';
    await this.removeStaleFiles();
    return this.fileNames();
  }

  /** Closes and deletes every temporary file. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.state !== 'open') return;
    this.state = 'aborted';
    for (const file of this.files) {
      await file.handle.close().catch(() => undefined);
      await rm(file.temporaryPath, { force: true });
    }
  }

  /**
   * A previous conversion may have written more data files (`_data_3` when this one wrote
   * three); leaving them would make the folder look bigger than the model and confuse
   * `use_external_data_format` counts.
   */
  private async removeStaleFiles(): Promise<void> {
    const written = new Set(this.fileNames());
    const pattern = new RegExp(`^${escapeRegExp(this.modelFileName)}_data(_\\d+)?$`);
    for (const entry of await readdir(this.directory)) {
      if (pattern.test(entry) && !written.has(entry)) await rm(join(this.directory, entry), { force: true });
    }
  }
}

/** A tensor's reserved bytes in a data file, filled in any order. */
export interface ReservedTensor {
  location: ExternalDataLocation;
  writeAt(relativeOffset: number, bytes: Uint8Array): Promise<void>;
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written);
    written += bytesWritten;
  }
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
