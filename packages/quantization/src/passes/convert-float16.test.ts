import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, DATA_TYPE, inlineTensor, makeNode, valueInfo } from '../onnx/onnx-nodes';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { convertModelFileToFloat16, floatTensorNames } from './convert-float16';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-float16-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** y = RMSNorm(x) · w, written as our converter writes it (Mul(x, x) → ReduceMean → Add ε → Sqrt → Div → Mul). */
async function writeNormModel(path: string): Promise<void> {
  const weight = Float32Array.from({ length: 600 }, (_, index) => 0.5 + index / 600);
  const graph: OnnxTypes.IGraphProto = {
    name: 'norm',
    node: [
      makeNode('Mul', 'square', ['x', 'x'], ['squared']),
      makeNode('ReduceMean', 'mean', ['squared', 'axes'], ['mean'], { keepdims: 1 }),
      makeNode('Add', 'epsilon', ['mean', 'eps'], ['shifted']),
      makeNode('Sqrt', 'root', ['shifted'], ['root']),
      makeNode('Div', 'normalize', ['x', 'root'], ['normalized']),
      makeNode('Mul', 'scale', ['normalized', 'w'], ['y']),
      makeNode('Shape', 'shape', ['x'], ['shape']),
      makeNode('Cast', 'count', ['shape'], ['shape_float'], { to: DATA_TYPE.float32 }),
    ],
    initializer: [
      inlineTensor('axes', DATA_TYPE.int64, [1], bytesOf(BigInt64Array.from([-1n]))),
      inlineTensor('eps', DATA_TYPE.float32, [], bytesOf(Float32Array.from([1e-6]))),
      inlineTensor('w', DATA_TYPE.float32, [600], bytesOf(weight)),
    ],
    input: [valueInfo('x', DATA_TYPE.float32, [1, 600])],
    output: [valueInfo('y', DATA_TYPE.float32, [1, 600]), valueInfo('shape_float', DATA_TYPE.float32, [2])],
  };
  await writeFile(path, onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph }).finish());
}

async function run(path: string, x: Float32Array): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(path);
  try {
    return await session.run({ x: new ort.Tensor('float32', x, [1, 600]) });
  } finally {
    await session.release();
  }
}

describe('convertModelFileToFloat16', () => {
  it('keeps float32 inputs and outputs, stores float16 weights, and matches fp32 within float16 rounding for activations in the thousands', async () => {
    const directory = join(root, 'norm');
    await mkdir(directory);
    await writeNormModel(join(directory, 'norm.onnx'));
    const result = await convertModelFileToFloat16(join(directory, 'norm.onnx'), directory, 'norm_fp16.onnx');
    expect(result.tensors.map((tensor) => tensor.name)).toEqual(['eps', 'w']);
    const model = onnx.ModelProto.decode(await readFile(join(directory, 'norm_fp16.onnx')));
    expect(model.graph!.input![0]!.type!.tensorType!.elemType).toBe(DATA_TYPE.float32);
    expect(model.graph!.output!.map((value) => value.type!.tensorType!.elemType)).toEqual([DATA_TYPE.float32, DATA_TYPE.float32]);
    const w = model.graph!.initializer!.find((tensor) => tensor.name === 'w')!;
    expect(w.dataType).toBe(DATA_TYPE.float16);
    // The internal Cast to float32 now casts to float16.
    const count = model.graph!.node!.find((node) => node.name === 'count')!;
    expect(Number(count.attribute![0]!.i)).toBe(DATA_TYPE.float16);

    // Activations in the thousands: x² reaches 9e6, far past float16's 65504.
    const x = Float32Array.from({ length: 600 }, (_, index) => 3000 * Math.sin(index * 0.1 + 0.3));
    const reference = await run(join(directory, 'norm.onnx'), x);
    const half = await run(join(directory, 'norm_fp16.onnx'), x);
    const expected = reference.y!.data as Float32Array;
    const actual = half.y!.data as Float32Array;
    expect(half.y!.type).toBe('float32');
    for (let index = 0; index < 600; index++) {
      // float16 rounding of x, w and the result: within 3 half-ulps of the value (2^−11 relative each).
      expect(Math.abs(actual[index]! - expected[index]!)).toBeLessThanOrEqual(3 * 2 ** -11 * Math.abs(expected[index]!) + 1e-3);
    }
    expect(Array.from(half.shape_float!.data as Float32Array)).toEqual([1, 600]);
  });

  it('wires the kept chain in float32 end to end: x is cast up once, x² never passes through float16', async () => {
    // onnxruntime's CPU EP casts ops without float16 kernels to float32 by itself, so on CPU the
    // overflow cannot be shown by running; GPU EPs with float16 kernels would compute x² in
    // float16 (65504 max; x² = 9e6 here). So the graph itself is checked.
    const model = onnx.ModelProto.decode(await readFile(join(root, 'norm', 'norm_fp16.onnx')));
    const producers = new Map(model.graph!.node!.flatMap((node) => node.output!.map((output) => [output, node] as const)));
    const square = model.graph!.node!.find((node) => node.name === 'square')!;
    const upcast = producers.get(square.input![0]!)!;
    expect([upcast.opType, Number(upcast.attribute![0]!.i), square.input![0] === square.input![1]]).toEqual(['Cast', DATA_TYPE.float32, true]);
    for (const [name, from] of [['mean', 'square'], ['epsilon', 'mean'], ['root', 'epsilon']] as const) {
      const node = model.graph!.node!.find((candidate) => candidate.name === name)!;
      expect(producers.get(node.input![0]!)!.name).toBe(from);
    }
    // Only the root goes back to float16 (for the Div); x² and its mean have no float16 copy.
    const downcasts = model.graph!.node!.filter((node) => node.opType === 'Cast' && Number(node.attribute![0]!.i) === DATA_TYPE.float16 && node.name!.includes('CastDown'));
    expect(downcasts.map((node) => node.name)).toEqual(['root/CastDown_0']);
    const unsafe = join(root, 'norm', 'norm_unsafe_fp16.onnx');
    await convertModelFileToFloat16(join(root, 'norm', 'norm.onnx'), join(root, 'norm'), 'norm_unsafe_fp16.onnx', { keepNormsInFloat32: false });
    const plain = onnx.ModelProto.decode(await readFile(unsafe));
    expect(plain.graph!.node!.find((node) => node.name === 'square')!.input![0]).toBe('x/float16');
  });

  it('follows types: comparisons and Shape are not float, Where takes its branches’ type, Cast its target', () => {
    const graph: OnnxTypes.IGraphProto = {
      node: [
        makeNode('Shape', 's', ['x'], ['shape']),
        makeNode('Less', 'l', ['x', 'x'], ['mask']),
        makeNode('Where', 'w', ['mask', 'x', 'x'], ['chosen']),
        makeNode('Cast', 'c', ['shape'], ['shape_float'], { to: DATA_TYPE.float32 }),
        makeNode('Gather', 'g', ['shape', 'zero'], ['first']),
      ],
      initializer: [inlineTensor('zero', DATA_TYPE.int64, [], bytesOf(BigInt64Array.from([0n])))],
      input: [valueInfo('x', DATA_TYPE.float32, [2])],
    };
    expect([...floatTensorNames(graph)].sort()).toEqual(['chosen', 'shape_float', 'x']);
  });

  it('refuses a graph without float32 weights', async () => {
    const path = join(root, 'empty.onnx');
    const graph = { name: 'g', node: [makeNode('Identity', 'i', ['x'], ['y'])], input: [valueInfo('x', DATA_TYPE.float32, [2])], output: [valueInfo('y', DATA_TYPE.float32, [2])] };
    await writeFile(path, onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph }).finish());
    await expect(convertModelFileToFloat16(path, root, 'never.onnx')).rejects.toSatisfy((error: unknown) => InputError.isInstance(error) && /nothing to convert/.test((error as Error).message));
  });
});
