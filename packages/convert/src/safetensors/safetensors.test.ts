import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFileError, UnsupportedError } from '@gemma3n/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryTensorSource, readTensorRows } from '../tensor-source';
import { roundToBfloat16 } from './float-conversions';
import { SafetensorsCheckpoint } from './safetensors-checkpoint';
import { SafetensorsFile } from './safetensors-file';
import { writeSafetensorsCheckpoint, writeSafetensorsFile } from './write-safetensors';

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'gemma3n-safetensors-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A file written by hand, byte by byte, so the reader is not only tested against our writer. */
async function handWritten(path: string, header: Record<string, unknown>, data: Uint8Array): Promise<void> {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([prefix, json, data]));
}

const source = new InMemoryTensorSource()
  .set('a.weight', [2, 3], new Float32Array([1, -2, 0.5, 3.25, -0.125, 1e-3]))
  .set('b.bias', [3], new Float32Array([7, 8, 9]))
  .set('c.scalar', [], new Float32Array([42]));

describe('writeSafetensorsFile + SafetensorsFile', () => {
  it('round-trips float32 exactly, with an 8-byte aligned header and contiguous offsets', async () => {
    const path = join(folder, 'model.safetensors');
    const names = source.names();
    const { bytes } = await writeSafetensorsFile(
      path,
      names.map((name) => ({ name, shape: source.info(name).shape })),
      (name) => source.get(name),
    );
    const raw = await readFile(path);
    expect(raw.length).toBe(bytes);
    const headerLength = Number(raw.readBigUInt64LE(0));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(raw.subarray(8, 8 + headerLength).toString('utf8'));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['a.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header['b.bias'].data_offsets).toEqual([24, 36]);
    expect(header['c.scalar']).toEqual({ dtype: 'F32', shape: [], data_offsets: [36, 40] });
    expect(raw.readFloatLE(8 + headerLength + 24)).toBe(7);

    const file = await SafetensorsFile.open(path);
    expect(file.names()).toEqual(names);
    expect(file.info('a.weight')).toEqual({ name: 'a.weight', shape: [2, 3], dtype: 'F32' });
    for (const name of names) expect(await file.read(name)).toEqual(source.get(name));
  });

  it('writes bf16 rounded to nearest even and reads it back widened', async () => {
    const path = join(folder, 'half.safetensors');
    const values = new Float32Array([1 / 3, -2.7, 1.00390625, 65536.5]);
    await writeSafetensorsFile(path, [{ name: 'x', shape: [4] }], () => values, { dtype: 'BF16' });
    const file = await SafetensorsFile.open(path);
    expect(file.info('x').dtype).toBe('BF16');
    expect(file.header.entries.get('x')?.end).toBe((await stat(path)).size);
    expect(await file.read('x')).toEqual(roundToBfloat16(values.slice()));
    const raw = await readFile(path);
    expect(raw.readUInt16LE(file.header.dataStart)).toBe(0x3eab); // 1/3 in bf16
  });

  it('reads hand-made F16 and BF16 tensors from known bit patterns', async () => {
    const path = join(folder, 'hand.safetensors');
    const data = Buffer.alloc(12);
    [0x3c00, 0xc000, 0x0001].forEach((bits, index) => data.writeUInt16LE(bits, index * 2));
    [0x3f80, 0x4049, 0xbf00].forEach((bits, index) => data.writeUInt16LE(bits, 6 + index * 2));
    await handWritten(
      path,
      {
        h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
        b: { dtype: 'BF16', shape: [1, 3], data_offsets: [6, 12] },
      },
      data,
    );
    const file = await SafetensorsFile.open(path);
    expect([...(await file.read('h'))]).toEqual([1, -2, 2 ** -24]);
    expect([...(await file.read('b'))]).toEqual([1, 3.140625, -0.5]);
  });

  it('names the tensor and dtype of an unsupported dtype', async () => {
    const path = join(folder, 'ints.safetensors');
    await handWritten(path, { 'position_ids': { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16));
    const file = await SafetensorsFile.open(path);
    expect(() => file.info('position_ids')).toThrow(UnsupportedError);
    await expect(file.read('position_ids')).rejects.toThrow(/Tensor "position_ids" in ".*ints.safetensors" has dtype I64/);
  });

  it('reports a truncated file with expected and actual bytes', async () => {
    const path = join(folder, 'cut.safetensors');
    const values = new Float32Array(100).fill(1);
    const { bytes } = await writeSafetensorsFile(path, [{ name: 'big', shape: [10, 10] }], () => values);
    await truncate(path, bytes - 10);
    const error = await SafetensorsFile.open(path, 'cut.safetensors').catch((caught: unknown) => caught);
    expect(ModelFileError.isInstance(error)).toBe(true);
    const fileError = error as ModelFileError;
    expect(fileError.problem).toBe('truncated');
    expect(fileError.expectedBytes).toBe(bytes);
    expect(fileError.actualBytes).toBe(bytes - 10);
    expect(fileError.message).toContain(`expected ${bytes} bytes, got ${bytes - 10}`);
    expect(fileError.message).toContain('"big"');
  });

  it('reports a file cut inside its header, and one shorter than 8 bytes', async () => {
    const path = join(folder, 'header.safetensors');
    await writeSafetensorsFile(path, [{ name: 'w', shape: [1] }], () => new Float32Array([1]));
    await truncate(path, 20);
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/truncated inside its header: the header needs \d+ bytes, the file has 20/);
    await truncate(path, 5);
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/has 5 bytes, fewer than the 8-byte header length/);
  });

  it('rejects an entry whose byte span does not match its shape', async () => {
    const path = join(folder, 'bad.safetensors');
    await handWritten(path, { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/tensor "w" \(F32 \[3\]\) spans 8 bytes; its shape needs 12/);
  });

  it('leaves nothing behind when a tensor cannot be produced', async () => {
    const path = join(folder, 'never.safetensors');
    const failing = writeSafetensorsFile(path, [{ name: 'w', shape: [4] }], () => new Float32Array(3));
    await expect(failing).rejects.toThrow(/4 values for shape \[4\]/);
    expect(await readdir(folder)).toEqual([]);
  });
});

describe('SafetensorsCheckpoint', () => {
  it('reads a single-file folder', async () => {
    await writeSafetensorsCheckpoint(folder, source);
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(checkpoint.files).toEqual(['model.safetensors']);
    expect(checkpoint.names().sort()).toEqual(['a.weight', 'b.bias', 'c.scalar']);
    expect(await checkpoint.read('b.bias')).toEqual(new Float32Array([7, 8, 9]));
  });

  it('writes and reads sharded checkpoints through the index weight_map', async () => {
    const { files } = await writeSafetensorsCheckpoint(folder, source, { maxShardBytes: 12, dtype: 'BF16' });
    expect(files).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
    ]);
    const index = JSON.parse(await readFile(join(folder, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(20); // (6 + 3 + 1) bf16 values
    expect(index.weight_map).toEqual({
      'a.weight': 'model-00001-of-00002.safetensors',
      'b.bias': 'model-00002-of-00002.safetensors',
      'c.scalar': 'model-00002-of-00002.safetensors',
    });
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(checkpoint.info('a.weight')).toEqual({ name: 'a.weight', shape: [2, 3], dtype: 'BF16' });
    expect(await checkpoint.read('a.weight')).toEqual(roundToBfloat16(source.get('a.weight').slice()));
    expect(await checkpoint.read('c.scalar')).toEqual(new Float32Array([42]));
  });

  it('reads a row range without the rest, in every dtype, and rejects ranges past the end', async () => {
    const table = new Float32Array(5 * 4).map((_, index) => index - 7.5);
    const rows = new InMemoryTensorSource().set('table', [5, 4], table);
    for (const dtype of ['F32', 'BF16'] as const) {
      const dir = join(folder, dtype);
      await mkdir(dir);
      await writeSafetensorsCheckpoint(dir, rows, { dtype });
      const checkpoint = await SafetensorsCheckpoint.open(dir);
      expect(await checkpoint.readRows('table', 1, 2)).toEqual(table.slice(4, 12));
      expect(await checkpoint.readRows('table', 4, 1)).toEqual(table.slice(16, 20));
      expect(await checkpoint.readRows('table', 5, 0)).toEqual(new Float32Array(0));
      await expect(checkpoint.readRows('table', 4, 2)).rejects.toThrow('rows [4, 6) are outside its 5 rows (shape [5, 4])');
    }
    expect(await readTensorRows(rows, 'table', 2, 1)).toEqual(table.slice(8, 12));
  });

  it('names a missing shard and the tensors it should hold', async () => {
    await writeSafetensorsCheckpoint(folder, source, { maxShardBytes: 24 });
    await rm(join(folder, 'model-00002-of-00002.safetensors'));
    await expect(SafetensorsCheckpoint.open(folder)).rejects.toThrow(
      /Shard "model-00002-of-00002.safetensors" listed in model.safetensors.index.json \(for 2 tensors, e.g. "b.bias"\) does not exist/,
    );
  });

  it('says when the folder has no checkpoint at all, and when a tensor is absent', async () => {
    await expect(SafetensorsCheckpoint.open(folder)).rejects.toThrow(/has neither model.safetensors nor model.safetensors.index.json/);
    await writeSafetensorsCheckpoint(folder, source);
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(() => checkpoint.info('nope')).toThrow(/has no tensor "nope"/);
  });
});
