import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnnxModelFile, onnx, writeOnnxModel, type WriteAt } from './index';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onnx-writer-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function run(file: string, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(join(directory, file));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('OnnxModelFile', () => {
  it('writes a MatMul + Add graph with external weights that ORT runs to the hand-computed values', async () => {
    // W is [3, 300] floats = 3600 bytes (external), bias is 300 floats (1200 bytes, external),
    // the scale is a scalar (inline). y = (x · W + b) · 2.
    const columns = 300;
    const weight = new Float32Array(3 * columns);
    for (let row = 0; row < 3; row++) for (let column = 0; column < columns; column++) weight[row * columns + column] = row + 1 + column / 100;
    const bias = Float32Array.from({ length: columns }, (_, index) => -index);
    const files = await writeOnnxModel({ directory, fileName: 'affine.onnx' }, async (graph) => {
      const x = graph.input('x', 'float32', ['batch_size', 3]);
      const scope = graph.scope('/model/affine');
      const w = await scope.initializer('weight', 'float32', [3, columns], weight);
      const b = await scope.initializer('bias', 'float32', [columns], bias);
      const product = scope.op('MatMul', [x, w]);
      const shifted = scope.op('Add', [product, b]);
      const scaled = scope.op('Mul', [shifted, graph.float32(2)]);
      graph.output(scaled, 'y', 'float32', ['batch_size', columns]);
    });
    expect(files).toEqual(['affine.onnx', 'affine.onnx_data']);
    expect(await readdir(directory)).toEqual(['affine.onnx', 'affine.onnx_data']);

    const model = onnx.ModelProto.decode(await readFile(join(directory, 'affine.onnx')));
    expect(Number(model.irVersion)).toBe(10);
    expect(model.opsetImport!.map((opset) => [opset.domain, Number(opset.version)])).toEqual([['', 21]]);
    const stored = model.graph!.initializer!.map((tensor) => [tensor.name, tensor.dataLocation]);
    expect(stored).toContainEqual(['/model/affine/weight', onnx.TensorProto.DataLocation.EXTERNAL]);
    expect(stored).toContainEqual(['/model/affine/bias', onnx.TensorProto.DataLocation.EXTERNAL]);
    // The bias is 64-byte aligned after the 3600-byte weight.
    const biasTensor = model.graph!.initializer!.find((tensor) => tensor.name === '/model/affine/bias')!;
    expect(Object.fromEntries(biasTensor.externalData!.map((entry) => [entry.key, entry.value]))).toEqual({
      location: 'affine.onnx_data',
      offset: '3648',
      length: '1200',
    });

    const x = new ort.Tensor('float32', Float32Array.from([1, 0, -1, 0.5, 2, 3]), [2, 3]);
    const { y } = await run('affine.onnx', { x });
    const values = y!.data as Float32Array;
    expect(y!.dims).toEqual([2, columns]);
    for (const [batch, [a, b, c]] of [[0, [1, 0, -1]], [1, [0.5, 2, 3]]] as const) {
      for (const column of [0, 7, 299]) {
        const expected = 2 * (a * (1 + column / 100) + b * (2 + column / 100) + c * (3 + column / 100) - column);
        expect(values[batch * columns + column]).toBeCloseTo(expected, 4);
      }
    }
  });

  it('splits external data over several files at the size limit and ORT still loads them', async () => {
    // Four 2 KiB tensors with a 5000-byte limit: two per file → affine.onnx_data, _data_1.
    // A fifth 8 KiB tensor is larger than the limit and gets a file of its own (_data_2).
    const tensors = Array.from({ length: 4 }, (_, index) => Float32Array.from({ length: 512 }, (_, j) => index * 1000 + j));
    const big = Float32Array.from({ length: 2048 }, (_, j) => -j);
    const files = await writeOnnxModel(
      { directory, fileName: 'split.onnx', maxExternalDataFileBytes: 5000 },
      async (graph) => {
        let sum = graph.input('x', 'float32', [512]);
        for (const [index, data] of tensors.entries()) {
          const weight = await graph.initializer(`/model/w${index}`, 'float32', [512], data);
          sum = graph.node('Add', [sum, weight], { name: `/model/add${index}` })[0]!;
        }
        const bigWeight = await graph.initializer('/model/big', 'float32', [4, 512], big);
        const total = graph.node('ReduceSum', [bigWeight, graph.int64([0])], { attributes: { keepdims: 0 } })[0]!;
        graph.output(graph.node('Add', [sum, total])[0]!, 'y', 'float32', [512]);
      },
    );
    expect(files).toEqual(['split.onnx', 'split.onnx_data', 'split.onnx_data_1', 'split.onnx_data_2']);
    expect((await stat(join(directory, 'split.onnx_data'))).size).toBe(2048 + 64 * 0 + 2048);
    expect((await stat(join(directory, 'split.onnx_data_2'))).size).toBe(8192);

    const { y } = await run('split.onnx', { x: new ort.Tensor('float32', new Float32Array(512).fill(1), [512]) });
    const values = y!.data as Float32Array;
    for (const j of [0, 5, 511]) {
      // 1 + Σ_index (index·1000 + j) + Σ_row −(row·512 + j)
      const expected = 1 + (0 + 1000 + 2000 + 3000 + 4 * j) - (0 + 512 + 1024 + 1536 + 4 * j);
      expect(values[j]).toBeCloseTo(expected, 3);
    }
  });

  it('keeps int64 shape constants inline and streams chunked initializers', async () => {
    // A 2x600 weight given as two chunks, reshaped through an inline int64 shape.
    const first = Float32Array.from({ length: 600 }, (_, j) => j);
    const second = Float32Array.from({ length: 600 }, (_, j) => 1000 + j);
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(first.buffer);
      yield new Uint8Array(second.buffer);
    }
    await writeOnnxModel({ directory, fileName: 'chunks.onnx' }, async (graph) => {
      const weight = await graph.initializer('/model/w', 'float32', [2, 600], { byteLength: 4800, chunks: chunks() });
      const reshaped = graph.node('Reshape', [weight, graph.int64([600, 2])])[0]!;
      const x = graph.input('x', 'float32', [1, 600]);
      graph.output(graph.node('MatMul', [x, reshaped])[0]!, 'y', 'float32', [1, 2]);
    });
    const model = onnx.ModelProto.decode(await readFile(join(directory, 'chunks.onnx')));
    const shape = model.graph!.initializer!.find((tensor) => tensor.name?.includes('int64'))!;
    expect(shape.dataLocation).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    const x = new Float32Array(600);
    x[0] = 1; // picks row 0 of the [600, 2] view: values 0 and 1
    x[599] = 2; // row 599: the last two values, 1000+598 and 1000+599
    const { y } = await run('chunks.onnx', { x: new ort.Tensor('float32', x, [1, 600]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([0 + 2 * 1598, 1 + 2 * 1599]);
  });

  it('fills initializers out of order (reserved external space and inline), as a transpose from row blocks does', async () => {
    // y = x + w for w = [0, 1, …, n−1], written back to front in 100-value pieces.
    const fillBackwards = (count: number) => async (writeAt: (offset: number, bytes: Uint8Array) => Promise<void>) => {
      for (let start = Math.floor((count - 1) / 100) * 100; start >= 0; start -= 100) {
        const piece = Float32Array.from({ length: Math.min(100, count - start) }, (_, index) => start + index);
        await writeAt(start * 4, new Uint8Array(piece.buffer));
      }
    };
    await writeOnnxModel({ directory, fileName: 'fill.onnx' }, async (graph) => {
      const x = graph.input('x', 'float32', [1000]);
      const large = await graph.initializer('/model/large', 'float32', [1000], { byteLength: 4000, fill: fillBackwards(1000) });
      const small = await graph.initializer('/model/small', 'float32', [150], { byteLength: 600, fill: fillBackwards(150) });
      graph.output(graph.node('Add', [x, large])[0]!, 'y', 'float32', [1000]);
      graph.output(graph.node('Mul', [small, graph.float32(2)])[0]!, 'z', 'float32', [150]);
    });
    const model = onnx.ModelProto.decode(await readFile(join(directory, 'fill.onnx')));
    const locations = Object.fromEntries(model.graph!.initializer!.map((tensor) => [tensor.name, tensor.dataLocation ?? 0]));
    expect(locations['/model/large']).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect(locations['/model/small']).toBe(onnx.TensorProto.DataLocation.DEFAULT);
    const { y, z } = await run('fill.onnx', { x: new ort.Tensor('float32', new Float32Array(1000).fill(0.5), [1000]) });
    expect(Array.from(y!.data as Float32Array)).toEqual(Array.from({ length: 1000 }, (_, index) => index + 0.5));
    expect(Array.from(z!.data as Float32Array)).toEqual(Array.from({ length: 150 }, (_, index) => 2 * index));
  });

  it('rejects an out-of-order write past the tensor', async () => {
    await expect(
      writeOnnxModel({ directory, fileName: 'overflow.onnx' }, async (graph) => {
        await graph.initializer('/model/w', 'float32', [1000], { byteLength: 4000, fill: (writeAt: WriteAt) => writeAt(3998, new Uint8Array(4)) });
      }),
    ).rejects.toThrow('tensor /model/w: write of 4 bytes at 3998 falls outside its 4000 bytes');
    expect(await readdir(directory)).toEqual([]);
  });

  it('removes its temporary files when the build fails, and leaves no model behind', async () => {
    await expect(
      writeOnnxModel({ directory, fileName: 'broken.onnx' }, async (graph) => {
        await graph.initializer('/model/w', 'float32', [1024], new Float32Array(1024));
        await graph.initializer('/model/bad', 'float32', [10], new Float32Array(3));
      }),
    ).rejects.toThrow('initializer /model/bad: float32 [10] needs 40 bytes, got 12');
    expect(await readdir(directory)).toEqual([]);
  });

  it('removes stale external data files of an earlier, larger conversion', async () => {
    const write = (count: number) =>
      writeOnnxModel({ directory, fileName: 'stale.onnx', maxExternalDataFileBytes: 4096 }, async (graph) => {
        let value = graph.input('x', 'float32', [1024]);
        for (let index = 0; index < count; index++) {
          const weight = await graph.initializer(`/model/w${index}`, 'float32', [1024], new Float32Array(1024).fill(index));
          value = graph.node('Add', [value, weight])[0]!;
        }
        graph.output(value, 'y', 'float32', [1024]);
      });
    expect(await write(3)).toEqual(['stale.onnx', 'stale.onnx_data', 'stale.onnx_data_1', 'stale.onnx_data_2']);
    expect(await write(1)).toEqual(['stale.onnx', 'stale.onnx_data']);
    expect((await readdir(directory)).sort()).toEqual(['stale.onnx', 'stale.onnx_data']);
    const { y } = await run('stale.onnx', { x: new ort.Tensor('float32', new Float32Array(1024).fill(5), [1024]) });
    expect((y!.data as Float32Array)[10]).toBe(5);
  });

  it('exposes the model proto before writing', async () => {
    const file = await OnnxModelFile.create({ directory, fileName: 'plain.onnx', opset: 20 });
    file.graph.input('x', 'float32', [1]);
    expect(file.toModelProto().opsetImport).toEqual([{ domain: '', version: 20 }]);
    await file.abort();
    expect(await readdir(directory)).toEqual([]);
  });
});
