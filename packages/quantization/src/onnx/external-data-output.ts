import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { externalDataFileName } from '@gemma3n/core';
import type { OnnxTypes } from './onnx-proto';
import { onnx } from './onnx-proto';

/** Default split size of external data files: 2 GiB, what browsers and protobuf tools handle. */
export const DEFAULT_MAX_DATA_FILE_BYTES = 2 * 1024 ** 3;
/** Tensors at least this large start on a page boundary so runtimes can memory-map them. */
const PAGE_ALIGNED_BYTES = 64 * 1024;

interface DataFile {
  name: string;
  handle: FileHandle;
  size: number;
}

/**
 * Appends tensors, one chunk at a time, to a model's external data files in `directory`, and
 * fills in each TensorProto's external_data. The folder being written is a temporary one that
 * is renamed into place whole, so files are written under their final names.
 */
export class ExternalDataOutput {
  private readonly files: DataFile[] = [];

  constructor(
    private readonly directory: string,
    private readonly modelFileName: string,
    private readonly maxFileBytes = DEFAULT_MAX_DATA_FILE_BYTES,
  ) {}

  fileNames(): string[] {
    return this.files.map((file) => file.name);
  }

  /** Writes `chunks` (adding up to `byteLength`) and marks `tensor` as stored there. */
  async write(tensor: OnnxTypes.ITensorProto, byteLength: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const alignment = byteLength >= PAGE_ALIGNED_BYTES ? 4096 : 64;
    let file = this.files[this.files.length - 1];
    let offset = file ? Math.ceil(file.size / alignment) * alignment : 0;
    if (!file || (file.size > 0 && offset + byteLength > this.maxFileBytes)) {
      const name = externalDataFileName(this.modelFileName, this.files.length);
      file = { name, handle: await open(join(this.directory, name), 'w'), size: 0 };
      this.files.push(file);
      offset = 0;
    }
    let position = offset;
    for await (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) {
        const { bytesWritten } = await file.handle.write(chunk, written, chunk.byteLength - written, position + written);
        written += bytesWritten;
      }
      position += chunk.byteLength;
    }
    if (position - offset !== byteLength) {
      throw new Error(`tensor ${tensor.name}: announced ${byteLength} bytes but wrote ${position - offset}`);
    }
    file.size = position;
    tensor.rawData = null;
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: file.name },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(byteLength) },
    ];
  }

  async close(): Promise<void> {
    for (const file of this.files) {
      await file.handle.sync();
      await file.handle.close();
    }
  }

  /** Closes without syncing (the temporary folder is about to be deleted). */
  async abort(): Promise<void> {
    for (const file of this.files) await file.handle.close().catch(() => undefined);
  }

  /**
   * Closes the data files, then writes `model` as the model file under a temporary name and
   * renames it, so a model file only ever exists whole. Returns the model file and its data files.
   */
  async finish(model: OnnxTypes.IModelProto): Promise<string[]> {
    await this.close();
    const finalPath = join(this.directory, this.modelFileName);
    const temporaryPath = `${finalPath}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temporaryPath, onnx.ModelProto.encode(model).finish());
    await rename(temporaryPath, finalPath);
    return [this.modelFileName, ...this.fileNames()];
  }

  /** After a failure: closes and deletes the data files written so far. */
  async discard(): Promise<void> {
    await this.abort();
    for (const file of this.fileNames()) await rm(join(this.directory, file), { force: true });
  }
}

/** A model with `source`'s header (IR version, producer, domain, version, docs, metadata). */
export function modelWithHeaderOf(
  source: OnnxTypes.IModelProto,
  parts: Pick<OnnxTypes.IModelProto, 'opsetImport' | 'graph' | 'functions'>,
): OnnxTypes.IModelProto {
  return {
    irVersion: source.irVersion,
    producerName: source.producerName,
    producerVersion: source.producerVersion,
    domain: source.domain,
    modelVersion: source.modelVersion,
    docString: source.docString,
    metadataProps: source.metadataProps,
    ...parts,
  };
}
