import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '@gemma3n/core';
import type { TensorSource } from '../tensor-source';
import { float32ToBfloat16 } from './float-conversions';
import { INDEX_FILE_NAME, SINGLE_FILE_NAME } from './safetensors-checkpoint';

export type WritableDtype = 'F32' | 'BF16';

export interface SafetensorsTensorPlan {
  name: string;
  shape: number[];
}

export interface WriteSafetensorsOptions {
  /** Stored dtype; bf16 rounds to nearest, ties to even. Default F32. */
  dtype?: WritableDtype;
  /** `__metadata__` strings; Hugging Face writes `{"format": "pt"}`. */
  metadata?: Record<string, string>;
}

const WRITE_CHUNK_ELEMENTS = 16 * 1024 * 1024;

/**
 * Writes one .safetensors file, streaming: the header is computed from the shapes alone, then
 * each tensor is fetched, converted and written before the next is fetched, so at most one
 * tensor is held at a time. The file is written under a temporary name and renamed at the
 * end, so a failure never leaves a half-written file at `path`.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: readonly SafetensorsTensorPlan[],
  readTensor: (name: string) => Float32Array | Promise<Float32Array>,
  options: WriteSafetensorsOptions = {},
): Promise<{ bytes: number }> {
  const dtype = options.dtype ?? 'F32';
  const elementBytes = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = { __metadata__: options.metadata ?? { format: 'pt' } };
  let offset = 0;
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (seen.has(tensor.name)) {
      throw new InputError({ field: 'tensors', value: tensor.name, expected: 'unique tensor names' });
    }
    seen.add(tensor.name);
    const bytes = elementCount(tensor.shape) * elementBytes;
    header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // Pad the JSON with spaces so tensor data starts 8-byte aligned, as the reference writer does.
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - ((Buffer.byteLength(headerText) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  const temporaryPath = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.partial`);
  const handle = await open(temporaryPath, 'w');
  let closed = false;
  try {
    await handle.write(prefix);
    await handle.write(headerBytes);
    for (const tensor of tensors) {
      const data = await readTensor(tensor.name);
      const expected = elementCount(tensor.shape);
      if (data.length !== expected) {
        throw new InputError({
          field: `tensor ${tensor.name}`,
          value: `${data.length} values`,
          expected: `${expected} values for shape [${tensor.shape.join(', ')}]`,
        });
      }
      for (let first = 0; first < data.length; first += WRITE_CHUNK_ELEMENTS) {
        const part = data.subarray(first, Math.min(data.length, first + WRITE_CHUNK_ELEMENTS));
        await handle.write(encode(part, dtype));
      }
    }
    await handle.close();
    closed = true;
    await rename(temporaryPath, path);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(temporaryPath, { force: true });
    throw error;
  }
  return { bytes: 8 + headerBytes.length + offset };
}

export interface WriteCheckpointOptions extends WriteSafetensorsOptions {
  /** Split into shards of at most this many data bytes (a tensor larger than it gets its own). */
  maxShardBytes?: number;
  /** Tensors to write, in order; default `source.names()`. */
  names?: readonly string[];
}

/**
 * Writes the tensors of `source` into `folder` as `model.safetensors`, or, with
 * `maxShardBytes`, as `model-0000i-of-0000n.safetensors` shards plus
 * `model.safetensors.index.json` (`metadata.total_size` and `weight_map`), the layout
 * Hugging Face's `save_pretrained` produces. Returns the file names written.
 */
export async function writeSafetensorsCheckpoint(
  folder: string,
  source: TensorSource,
  options: WriteCheckpointOptions = {},
): Promise<{ files: string[]; totalBytes: number }> {
  const names = options.names ?? source.names();
  const elementBytes = (options.dtype ?? 'F32') === 'F32' ? 4 : 2;
  const plans = names.map((name) => ({ name, shape: source.info(name).shape }));
  const read = (name: string) => source.read(name);

  if (options.maxShardBytes === undefined) {
    const { bytes } = await writeSafetensorsFile(join(folder, SINGLE_FILE_NAME), plans, read, options);
    return { files: [SINGLE_FILE_NAME], totalBytes: bytes };
  }

  const shards: SafetensorsTensorPlan[][] = [];
  let current: SafetensorsTensorPlan[] = [];
  let currentBytes = 0;
  let totalDataBytes = 0;
  for (const plan of plans) {
    const bytes = elementCount(plan.shape) * elementBytes;
    if (current.length > 0 && currentBytes + bytes > options.maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(plan);
    currentBytes += bytes;
    totalDataBytes += bytes;
  }
  if (current.length > 0) shards.push(current);

  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  let totalBytes = 0;
  for (const [index, shard] of shards.entries()) {
    const fileName = `model-${pad5(index + 1)}-of-${pad5(shards.length)}.safetensors`;
    const { bytes } = await writeSafetensorsFile(join(folder, fileName), shard, read, options);
    totalBytes += bytes;
    files.push(fileName);
    for (const plan of shard) weightMap[plan.name] = fileName;
  }
  const indexJson = { metadata: { total_size: totalDataBytes }, weight_map: weightMap };
  const indexPath = join(folder, INDEX_FILE_NAME);
  const temporaryIndex = `${indexPath}.${process.pid}.partial`;
  await writeFile(temporaryIndex, `${JSON.stringify(indexJson, null, 2)}\n`);
  await rename(temporaryIndex, indexPath);
  files.push(INDEX_FILE_NAME);
  return { files, totalBytes };
}

function encode(values: Float32Array, dtype: WritableDtype): Uint8Array {
  if (dtype === 'BF16') {
    const halves = float32ToBfloat16(values);
    return littleEndianBytes(halves, 2);
  }
  return littleEndianBytes(values, 4);
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(values: Float32Array | Uint16Array, elementBytes: 2 | 4): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * elementBytes);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => {
    if (elementBytes === 4) view.setFloat32(index * 4, value, true);
    else view.setUint16(index * 2, value, true);
  });
  return bytes;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

function pad5(value: number): string {
  return String(value).padStart(5, '0');
}
