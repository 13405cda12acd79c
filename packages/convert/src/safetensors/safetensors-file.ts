import { open, stat } from 'node:fs/promises';
import { ModelFileError, UnsupportedError } from '@gemma3n/core';
import { checkRowRange, type TensorInfo } from '../tensor-source';
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from './float-conversions';
import {
  isReadableDtype,
  parseSafetensorsHeader,
  READABLE_DTYPES,
  readHeaderLength,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './safetensors-header';

/**
 * Positioned reads are done in chunks: a single fs read is limited to 2 GiB, and converting
 * chunk by chunk keeps only the float32 result (not also a copy of the raw bytes) in memory.
 */
const READ_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * One .safetensors file. `open` reads and checks only the header; `read` then fetches one
 * tensor's bytes with positioned reads, never the whole file.
 */
export class SafetensorsFile {
  private constructor(
    /** Absolute or caller-relative path, used for reading. */
    readonly path: string,
    /** The name shown in errors (the file name inside the checkpoint folder). */
    readonly displayName: string,
    readonly fileSize: number,
    readonly header: SafetensorsHeader,
  ) {}

  static async open(path: string, displayName = path): Promise<SafetensorsFile> {
    let fileSize: number;
    try {
      fileSize = (await stat(path)).size;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ModelFileError({ path: displayName, problem: 'missing', cause });
      }
      throw new ModelFileError({ path: displayName, problem: 'unreadable', cause });
    }
    const handle = await open(path, 'r');
    try {
      const prefix = new Uint8Array(8);
      await readFully(handle, prefix, 0, Math.min(8, fileSize));
      const headerLength = readHeaderLength(prefix, fileSize, displayName);
      const headerBytes = new Uint8Array(headerLength);
      await readFully(handle, headerBytes, 8, headerLength);
      return new SafetensorsFile(path, displayName, fileSize, parseSafetensorsHeader(headerBytes, fileSize, displayName));
    } finally {
      await handle.close();
    }
  }

  names(): string[] {
    return [...this.header.entries.keys()];
  }

  has(name: string): boolean {
    return this.header.entries.has(name);
  }

  entry(name: string): SafetensorsEntry {
    const entry = this.header.entries.get(name);
    if (entry === undefined) {
      throw new ModelFileError({
        path: this.displayName,
        problem: 'unreadable',
        message: `Safetensors file "${this.displayName}" has no tensor "${name}"`,
      });
    }
    return entry;
  }

  /** Name, shape and dtype; an UnsupportedError for dtypes that are not widened to float32. */
  info(name: string): TensorInfo {
    const entry = this.entry(name);
    return { name, shape: [...entry.shape], dtype: readableDtype(entry, this.displayName) };
  }

  /** Reads one tensor and widens it to float32. */
  async read(name: string): Promise<Float32Array> {
    const entry = this.entry(name);
    const elementBytes = readableDtype(entry, this.displayName) === 'F32' ? 4 : 2;
    return this.readElements(entry, 0, (entry.end - entry.begin) / elementBytes);
  }

  /** Reads rows [firstRow, firstRow + rowCount) of the first dimension, nothing else. */
  async readRows(name: string, firstRow: number, rowCount: number): Promise<Float32Array> {
    const entry = this.entry(name);
    readableDtype(entry, this.displayName);
    const rowSize = checkRowRange(name, entry.shape, firstRow, rowCount);
    return this.readElements(entry, firstRow * rowSize, rowCount * rowSize);
  }

  private async readElements(entry: SafetensorsEntry, firstElement: number, count: number): Promise<Float32Array> {
    const dtype = readableDtype(entry, this.displayName);
    const elementBytes = dtype === 'F32' ? 4 : 2;
    const start = entry.begin + firstElement * elementBytes;
    const result = new Float32Array(count);
    const handle = await open(this.path, 'r');
    try {
      // Whole elements per chunk, so no element straddles two reads.
      const chunkElements = Math.floor(READ_CHUNK_BYTES / elementBytes);
      const chunk = new Uint8Array(Math.min(count, chunkElements) * elementBytes);
      for (let first = 0; first < count; first += chunkElements) {
        const elements = Math.min(chunkElements, count - first);
        const bytes = chunk.subarray(0, elements * elementBytes);
        await readFully(handle, bytes, start + first * elementBytes, bytes.length, this.displayName, entry.name);
        const target = result.subarray(first, first + elements);
        if (dtype === 'F32') target.set(littleEndianFloat32(bytes));
        else {
          const halves = littleEndianUint16(bytes);
          if (dtype === 'BF16') bfloat16BitsToFloat32(halves, target);
          else float16BitsToFloat32(halves, target);
        }
      }
    } finally {
      await handle.close();
    }
    return result;
  }
}

function readableDtype(entry: SafetensorsEntry, path: string): 'F32' | 'F16' | 'BF16' {
  if (isReadableDtype(entry.dtype)) return entry.dtype;
  throw new UnsupportedError({
    feature: 'safetensors dtype',
    value: entry.dtype,
    supported: READABLE_DTYPES,
    message: `Tensor "${entry.name}" in "${path}" has dtype ${entry.dtype}; only ${READABLE_DTYPES.join(', ')} can be read as float32`,
  });
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianFloat32(bytes: Uint8Array): Float32Array {
  // Chunks start at offset 0 of a fresh buffer, so they are 4-byte aligned.
  if (hostIsLittleEndian) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Float32Array.from({ length: bytes.length / 4 }, (_, index) => view.getFloat32(index * 4, true));
}

function littleEndianUint16(bytes: Uint8Array): Uint16Array {
  if (hostIsLittleEndian) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Uint16Array.from({ length: bytes.length / 2 }, (_, index) => view.getUint16(index * 2, true));
}

async function readFully(
  handle: import('node:fs/promises').FileHandle,
  target: Uint8Array,
  position: number,
  length: number,
  path = '',
  tensor = '',
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(target, done, length - done, position + done);
    if (bytesRead === 0) {
      // The header check makes this unreachable unless the file shrinks while we read it.
      throw new ModelFileError({
        path,
        problem: 'truncated',
        expectedBytes: position + length,
        actualBytes: position + done,
        message: `Safetensors file "${path}" ended at byte ${position + done} while reading tensor "${tensor}" (expected ${position + length} bytes)`,
      });
    }
    done += bytesRead;
  }
}
