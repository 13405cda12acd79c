import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, ModelFileError } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dequantizeGatherBlockQuantized, dequantizeMatMulNBits, quantizeGatherBlockQuantized, quantizeMatMulNBits } from '../blockwise-4bit';
import { ExternalDataOutput } from '../onnx/external-data-output';
import { bytesOf, DATA_TYPE, makeNode, valueInfo } from '../onnx/onnx-nodes';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { quantizeModelFile } from './quantize-model-file';

/**
 * A small fp32 graph written like the converter writes them (weights in external data):
 *   y = Gather(table, ids) · W + (Gather(table, ids) · small), z = W + 1
 * W [32, 48] is also read by an Add, so it must be kept next to its quantized form; `small`
 * [32, 8] is below the minimum size and stays float.
 */
let root: string;
const table = Float32Array.from({ length: 40 * 32 }, (_, index) => Math.sin(index * 0.37) * (1 + (index % 7)));
const weight = Float32Array.from({ length: 32 * 48 }, (_, index) => Math.cos(index * 0.11) / (1 + (index % 5)));
const small = Float32Array.from({ length: 32 * 8 }, (_, index) => (index % 9) / 9 - 0.5);

async function writeSourceModel(directory: string, nodes?: OnnxTypes.INodeProto[]): Promise<string> {
  const output = new ExternalDataOutput(directory, 'model.onnx');
  const initializers: OnnxTypes.ITensorProto[] = [];
  for (const [name, dims, values] of [['table', [40, 32], table], ['W', [32, 48], weight], ['small', [32, 8], small]] as const) {
    const tensor: OnnxTypes.ITensorProto = { name, dataType: DATA_TYPE.float32, dims: [...dims] };
    await output.write(tensor, values.byteLength, [bytesOf(values)]);
    initializers.push(tensor);
  }
  initializers.push({ name: 'one', dataType: DATA_TYPE.float32, dims: [], rawData: bytesOf(Float32Array.from([1])) });
  await output.close();
  const graph: OnnxTypes.IGraphProto = {
    name: 'source',
    node: nodes ?? [
      makeNode('Gather', 'embed', ['table', 'ids'], ['rows'], { axis: 0 }),
      makeNode('MatMul', 'project', ['rows', 'W'], ['projected']),
      makeNode('MatMul', 'side', ['rows', 'small'], ['side']),
      makeNode('Add', 'shift', ['W', 'one'], ['z']),
    ],
    initializer: initializers,
    input: [valueInfo('ids', DATA_TYPE.int64, [1, 'sequence'])],
    output: [valueInfo('projected', DATA_TYPE.float32, [1, 'sequence', 48]), valueInfo('side', DATA_TYPE.float32, [1, 'sequence', 8]), valueInfo('z', DATA_TYPE.float32, [32, 48])],
  };
  const path = join(directory, 'model.onnx');
  await writeFile(path, onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph }).finish());
  return path;
}

async function run(path: string, ids: number[]): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(path);
  try {
    const outputs = await session.run({ ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) });
    return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  } finally {
    await session.release();
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-quantize-file-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('quantizeModelFile', () => {
  it('rewrites MatMul and Gather, keeps a weight that another op reads, leaves small weights float, and runs as dequantize-then-float', async () => {
    const source = join(root, 'source');
    await mkdir(source);
    const input = await writeSourceModel(source);
    const output = join(root, 'q4');
    await mkdir(output);
    const result = await quantizeModelFile(input, output, 'model_q4.onnx', { dtype: 'q4', accuracyLevel: 0 });
    expect(result.files).toEqual(['model_q4.onnx', 'model_q4.onnx_data']);
    expect(result.tensors.map((tensor) => [tensor.name, tensor.op])).toEqual([
      ['table', 'GatherBlockQuantized'],
      ['W', 'MatMulNBits'],
    ]);
    const model = onnx.ModelProto.decode(await readFile(join(output, 'model_q4.onnx')));
    expect(model.graph!.node!.map((node) => `${node.domain || 'ai.onnx'}:${node.opType}`)).toEqual([
      'com.microsoft:GatherBlockQuantized',
      'com.microsoft:MatMulNBits',
      'ai.onnx:MatMul',
      'ai.onnx:Add',
    ]);
    expect(model.opsetImport!.map((opset) => opset.domain)).toEqual(['', 'com.microsoft']);
    expect(model.graph!.initializer!.map((tensor) => tensor.name).sort()).toEqual(
      ['W', 'W_Q4', 'W_Q4_scales', 'W_Q4_zero_points', 'one', 'small', 'table_Q4', 'table_Q4_scales', 'table_Q4_zero_points'].sort(),
    );

    const ids = [3, 39, 0, 3];
    const got = await run(join(output, 'model_q4.onnx'), ids);
    const options = { blockSize: 32, symmetric: false };
    const restoredTable = dequantizeGatherBlockQuantized(quantizeGatherBlockQuantized(table, { rows: 40, columns: 32 }, options));
    const restoredWeight = dequantizeMatMulNBits(quantizeMatMulNBits(weight, { k: 32, n: 48, layout: 'k-by-n' }, options));
    ids.forEach((id, position) => {
      for (const column of [0, 17, 47]) {
        let expected = 0;
        for (let inner = 0; inner < 32; inner++) expected += restoredTable[id * 32 + inner]! * restoredWeight[inner * 48 + column]!;
        expect(got.projected![position * 48 + column]).toBeCloseTo(expected, 4);
      }
      // `small` stayed float: its product uses the dequantized rows and the exact weights.
      let side = 0;
      for (let inner = 0; inner < 32; inner++) side += restoredTable[id * 32 + inner]! * small[inner * 8 + 5]!;
      expect(got.side![position * 8 + 5]).toBeCloseTo(side, 4);
    });
    // The Add still reads the original fp32 W.
    expect(got.z![100]).toBeCloseTo(weight[100]! + 1, 6);
  });

  it('gives byte-identical files whether the fp32 source is read in 256-byte or 16 MiB chunks, and splits data files at the limit', async () => {
    const input = join(root, 'source', 'model.onnx');
    for (const dtype of ['q4', 'q8'] as const) {
      const whole = join(root, `${dtype}-whole`);
      const pieces = join(root, `${dtype}-pieces`);
      const split = join(root, `${dtype}-split`);
      for (const directory of [whole, pieces, split]) await mkdir(directory);
      await quantizeModelFile(input, whole, 'model.onnx', { dtype });
      await quantizeModelFile(input, pieces, 'model.onnx', { dtype, chunkBytes: 256 });
      for (const file of await readdir(whole)) expect(await readFile(join(pieces, file))).toEqual(await readFile(join(whole, file)));
      const splitResult = await quantizeModelFile(input, split, 'model.onnx', { dtype, maxExternalDataFileBytes: 2048 });
      expect(splitResult.files.length).toBeGreaterThan(2);
      const reference = await run(join(whole, 'model.onnx'), [1, 2]);
      expect(await run(join(split, 'model.onnx'), [1, 2])).toEqual(reference);
    }
  });

  it('keeps a weight that only an If branch reads besides the quantized MatMul', async () => {
    const directory = join(root, 'subgraph');
    await mkdir(directory);
    const branch = (name: string) => ({ name, node: [makeNode('Identity', `${name}/copy`, ['W'], [`${name}/w`])], output: [valueInfo(`${name}/w`, DATA_TYPE.float32, [32, 48])] });
    const ifNode = makeNode('If', 'choose', ['flag'], ['z']);
    ifNode.attribute = [
      { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then') },
      { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else') },
    ];
    const input = await writeSourceModel(directory, [
      makeNode('Gather', 'embed', ['table', 'ids'], ['rows'], { axis: 0 }),
      makeNode('MatMul', 'project', ['rows', 'W'], ['projected']),
      makeNode('MatMul', 'side', ['rows', 'small'], ['side']),
      makeNode('Greater', 'flag', ['one', 'one'], ['flag']),
      ifNode,
    ]);
    const output = join(directory, 'out');
    await mkdir(output);
    await quantizeModelFile(input, output, 'model_q4.onnx', { dtype: 'q4' });
    const model = onnx.ModelProto.decode(await readFile(join(output, 'model_q4.onnx')));
    expect(model.graph!.initializer!.map((tensor) => tensor.name)).toContain('W');
    const got = await run(join(output, 'model_q4.onnx'), [1]);
    expect(got.z![5]).toBe(weight[5]);
  });

  it('q8 writes DynamicQuantizeMatMul and int8 table rows that run', async () => {
    const output = join(root, 'q8-run');
    await mkdir(output);
    const result = await quantizeModelFile(join(root, 'source', 'model.onnx'), output, 'model_quantized.onnx', { dtype: 'q8' });
    expect(result.tensors.map((tensor) => tensor.op)).toEqual(['Gather+Cast+Mul (int8 rows)', 'DynamicQuantizeMatMul']);
    const got = await run(join(output, 'model_quantized.onnx'), [5]);
    let expected = 0;
    for (let inner = 0; inner < 32; inner++) expected += table[5 * 32 + inner]! * weight[inner * 48 + 7]!;
    // int8 rows, int8 weights and uint8 activations: within 2 % of the fp32 product's scale.
    expect(Math.abs(got.projected![7]! - expected)).toBeLessThan(0.02 * 8);
  });

  it('refuses a graph with nothing to quantize, an already-quantized graph, and short external data, with clear errors', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    const nothing = await writeSourceModel(empty, [makeNode('Add', 'shift', ['W', 'one'], ['z']), makeNode('Identity', 'a', ['ids'], ['projected']), makeNode('Identity', 'b', ['ids'], ['side'])]);
    await expect(quantizeModelFile(nothing, root, 'never.onnx', { dtype: 'q4' })).rejects.toSatisfy(
      (error: unknown) => InputError.isInstance(error) && /has nothing to quantize/.test((error as Error).message),
    );
    const once = join(root, 'once');
    await mkdir(once);
    await quantizeModelFile(join(root, 'source', 'model.onnx'), once, 'model_q4.onnx', { dtype: 'q4' });
    await expect(quantizeModelFile(join(once, 'model_q4.onnx'), root, 'never.onnx', { dtype: 'q4' })).rejects.toThrow(
      /is already quantized \(node embed_Q4 is GatherBlockQuantized\)/,
    );
    await truncate(join(once, 'model_q4.onnx_data'), 100);
    await expect(quantizeModelFile(join(once, 'model_q4.onnx'), root, 'never.onnx', { dtype: 'q4' })).rejects.toSatisfy(
      (error: unknown) => ModelFileError.isInstance(error) && (error as ModelFileError).problem === 'short' && (error as ModelFileError).actualBytes === 100,
    );
    expect((await readdir(root)).filter((name) => name.startsWith('never'))).toEqual([]);
  });
});
