import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@gemma3n/core';
import { makeTinyModel, type MakeTinyModelOptions } from '@gemma3n/convert';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dequantizeMatMulNBits, quantizeMatMulNBits } from '../blockwise-4bit';
import { runQuantizeCommand } from '../cli/quantize-command';
import { evaluateQuantization, type OrtRuntime } from '../evaluation/evaluate-quantization';
import { seededPrompts } from '../evaluation/seeded-prompts';
import { quantizeModelFolder } from '../folder/quantize-folder';
import { dequantizeInt8, quantizeInt8 } from '../int8';
import { ExternalDataOutput } from '../onnx/external-data-output';
import { bytesOf, DATA_TYPE, makeNode, valueInfo } from '../onnx/onnx-nodes';
import { OnnxModelReader } from '../onnx/onnx-model-reader';
import { onnx, type OnnxTypes } from '../onnx/onnx-proto';
import { quantizeModelFile } from './quantize-model-file';

/**
 * The optimized profile's tied lm_head (packages/convert/src/text-optimized/fused-decoder-graph.ts,
 * layout `gemm-transposed-b`), shrunk: the token table T [V, D] = [96, 80] is gathered for the
 * embeddings and multiplied as `Gemm(rows, T, transB=1)` between the Reshapes to 2-D and back.
 * D = 80 is not a multiple of the block (32), so the last block of each row is partial.
 */
const vocab = 96;
const width = 80;
const table = Float32Array.from({ length: vocab * width }, (_, index) => Math.sin(index * 0.37) * (1 + (index % 7)) * 0.1);
const sequence = 5;
const hidden = Float32Array.from({ length: sequence * width }, (_, index) => Math.cos(index * 0.23) * (1 + (index % 3)));
const ids = [3, 95, 0, 3, 41];
const q4Options = { blockSize: 32, symmetric: false };

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-quantize-gemm-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function int64(name: string, values: number[]): OnnxTypes.ITensorProto {
  return { name, dataType: DATA_TYPE.int64, dims: [values.length], rawData: bytesOf(BigInt64Array.from(values, BigInt)) };
}

/** `logits` [1, s, V] = hidden [1, s, D] · Tᵀ through `lmHead`, and `embedded` = Gather(T, ids). */
async function writeModel(directory: string, weights: { table: Float32Array; extra?: [string, number[], Float32Array][] }, lmHead: OnnxTypes.INodeProto[], extraOutputs: OnnxTypes.IValueInfoProto[] = []): Promise<string> {
  await mkdir(directory, { recursive: true });
  const output = new ExternalDataOutput(directory, 'model.onnx');
  const initializers: OnnxTypes.ITensorProto[] = [];
  for (const [name, dims, values] of [['table', [vocab, width], weights.table] as [string, number[], Float32Array], ...(weights.extra ?? [])]) {
    const tensor: OnnxTypes.ITensorProto = { name, dataType: DATA_TYPE.float32, dims };
    await output.write(tensor, values.byteLength, [bytesOf(values)]);
    initializers.push(tensor);
  }
  await output.close();
  initializers.push(int64('rows_shape', [-1, width]), int64('zero', [0]), int64('two', [2]), int64('vocab', [vocab]));
  const graph: OnnxTypes.IGraphProto = {
    name: 'lm-head',
    node: [
      makeNode('Gather', 'embed', ['table', 'ids'], ['embedded'], { axis: 0 }),
      makeNode('Reshape', 'lm_head/Rows', ['hidden', 'rows_shape'], ['rows']),
      ...lmHead,
      makeNode('Shape', 'lm_head/InputShape', ['hidden'], ['input_shape']),
      makeNode('Slice', 'lm_head/LeadingDims', ['input_shape', 'zero', 'two', 'zero'], ['leading']),
      makeNode('Concat', 'lm_head/OutputShape', ['leading', 'vocab'], ['output_shape'], { axis: 0 }),
      makeNode('Reshape', 'lm_head/Logits', ['product', 'output_shape'], ['logits']),
    ],
    initializer: initializers,
    input: [valueInfo('ids', DATA_TYPE.int64, [1, 'sequence']), valueInfo('hidden', DATA_TYPE.float32, [1, 'sequence', width])],
    output: [valueInfo('logits', DATA_TYPE.float32, [1, 'sequence', vocab]), valueInfo('embedded', DATA_TYPE.float32, [1, 'sequence', width]), ...extraOutputs],
  };
  const path = join(directory, 'model.onnx');
  await writeFile(path, onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph }).finish());
  return path;
}

const gemmLmHead = (attributes: Record<string, number | { float: number }> = { transB: 1 }, weight = 'table') => [makeNode('Gemm', 'lm_head/Gemm', ['rows', weight], ['product'], attributes)];

async function run(path: string): Promise<{ logits: Float32Array; embedded: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(path);
  try {
    const outputs = await session.run({
      ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      hidden: new ort.Tensor('float32', hidden, [1, sequence, width]),
    });
    return { logits: outputs.logits!.data as Float32Array, embedded: outputs.embedded!.data as Float32Array, dims: outputs.logits!.dims };
  } finally {
    await session.release();
  }
}

function maxAbsoluteDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let index = 0; index < a.length; index++) largest = Math.max(largest, Math.abs(a[index]! - b[index]!));
  return largest;
}

function maxAbsolute(values: Float32Array): number {
  return values.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
}

function transpose(matrix: Float32Array, rows: number, columns: number): Float32Array {
  const result = new Float32Array(matrix.length);
  for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) result[column * rows + row] = matrix[row * columns + column]!;
  return result;
}

async function initializerBytes(path: string): Promise<Map<string, Uint8Array>> {
  const reader = await OnnxModelReader.open(path);
  try {
    const result = new Map<string, Uint8Array>();
    for (const tensor of reader.graph.initializer) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of reader.chunks(tensor)) chunks.push(chunk);
      result.set(tensor.name ?? '', Buffer.concat(chunks));
    }
    return result;
  } finally {
    await reader.close();
  }
}

describe('quantizeModelFile on a Gemm(transB=1) lm_head', () => {
  it('q4: becomes MatMulNBits on the [V, D] table with no transpose, and equals the fp32 graph holding the dequantized table', async () => {
    const input = await writeModel(join(root, 'source'), { table }, gemmLmHead());
    const output = join(root, 'q4');
    await mkdir(output);
    const result = await quantizeModelFile(input, output, 'model_q4.onnx', { dtype: 'q4', accuracyLevel: 0 });
    // The table is both gathered and multiplied: two quantized forms with distinct names.
    expect(result.tensors.map((tensor) => [tensor.name, tensor.kind, tensor.shape, tensor.op])).toEqual([
      ['table', 'table', [vocab, width], 'GatherBlockQuantized'],
      ['table', 'gemm', [vocab, width], 'MatMulNBits'],
    ]);
    expect(result.skipped).toEqual([]);
    const model = onnx.ModelProto.decode(await readFile(join(output, 'model_q4.onnx')));
    const lmHead = model.graph!.node!.find((node) => node.name === 'lm_head/Gemm_Q4')!;
    expect(lmHead.opType).toBe('MatMulNBits');
    expect(lmHead.input).toEqual(['rows', 'table_gemm_Q4', 'table_gemm_Q4_scales', 'table_gemm_Q4_zero_points']);
    expect(Object.fromEntries(lmHead.attribute!.map((entry) => [entry.name, Number(entry.i)]))).toEqual({ K: width, N: vocab, bits: 4, block_size: 32, accuracy_level: 0 });
    expect(model.graph!.initializer!.map((tensor) => tensor.name)).not.toContain('table');
    const dims = new Map(model.graph!.initializer!.map((tensor) => [tensor.name, (tensor.dims ?? []).map(Number)]));
    expect(dims.get('table_gemm_Q4')).toEqual([vocab, 3, 16]);

    // The reference: the same fp32 graph with T replaced by dequantize(quantize(T)), computed
    // by the pure functions (MatMulNBits layout of W = Tᵀ, restored as [K, N], back to [N, K]).
    const restored = transpose(dequantizeMatMulNBits(quantizeMatMulNBits(table, { k: width, n: vocab, layout: 'n-by-k' }, q4Options)), width, vocab);
    const reference = await run(await writeModel(join(root, 'dequantized'), { table: restored }, gemmLmHead()));
    const got = await run(join(output, 'model_q4.onnx'));
    expect(got.dims).toEqual([1, sequence, vocab]);
    const logitsError = maxAbsoluteDifference(got.logits, reference.logits);
    // Measured 0 (bit-identical) against logits up to 6.7; the bound leaves room for float32
    // summation order on other builds. The same graph with the original fp32 table is 1.24
    // away: that is the 4-bit rounding of the weights, not the rewrite.
    expect(logitsError).toBeLessThan(1e-5 * maxAbsolute(reference.logits));
    // GatherBlockQuantized's rows are the same dequantized values (blocks along D either way).
    expect(maxAbsoluteDifference(got.embedded, reference.embedded)).toBe(0);
    // The `emulate` diagnostic writes exactly that reference table.
    const emulated = join(root, 'q4-emulated');
    await mkdir(emulated);
    await quantizeModelFile(input, emulated, 'model_q4.onnx', { dtype: 'q4', emulate: true });
    const emulatedTable = new Float32Array((await initializerBytes(join(emulated, 'model_q4.onnx'))).get('table')!.slice().buffer);
    expect(emulatedTable).toEqual(restored);

    // accuracy_level 4 (the default: int8 activations) stays close too.
    const fast = join(root, 'q4-fast');
    await mkdir(fast);
    await quantizeModelFile(input, fast, 'model_q4.onnx', { dtype: 'q4' });
    // Measured 0.061 (0.91 % of the largest logit, 6.7); bound 2 %, far below the 1.24 of the 4-bit weights.
    expect(maxAbsoluteDifference((await run(join(fast, 'model_q4.onnx'))).logits, reference.logits)).toBeLessThan(0.02 * maxAbsolute(reference.logits));
  });

  it('q4 and q8: the Gemm on [V, D] gives the same quantized tensors and outputs as a MatMul on the [D, V] copy', async () => {
    const copy = transpose(table, vocab, width);
    const gemm = await writeModel(join(root, 'gemm-only'), { table }, gemmLmHead());
    const matmul = await writeModel(join(root, 'matmul-copy'), { table, extra: [['table_t', [width, vocab], copy]] }, [makeNode('MatMul', 'lm_head/MatMul', ['rows', 'table_t'], ['product'])]);
    for (const dtype of ['q4', 'q8'] as const) {
      const fromGemm = join(root, `${dtype}-from-gemm`);
      const fromMatMul = join(root, `${dtype}-from-matmul`);
      await mkdir(fromGemm);
      await mkdir(fromMatMul);
      const gemmResult = await quantizeModelFile(gemm, fromGemm, 'model.onnx', { dtype, accuracyLevel: 0 });
      await quantizeModelFile(matmul, fromMatMul, 'model.onnx', { dtype, accuracyLevel: 0 });
      expect(gemmResult.tensors.find((tensor) => tensor.kind === 'gemm')!.op).toBe(dtype === 'q4' ? 'MatMulNBits' : 'DynamicQuantizeMatMul');
      const gemmBytes = await initializerBytes(join(fromGemm, 'model.onnx'));
      const matmulBytes = await initializerBytes(join(fromMatMul, 'model.onnx'));
      const suffix = dtype === 'q4' ? '_Q4' : '_quantized';
      for (const part of dtype === 'q4' ? ['', '_scales', '_zero_points'] : ['', '_scales']) {
        expect(gemmBytes.get(`table_gemm${suffix}${part}`)).toEqual(matmulBytes.get(`table_t${suffix}${part}`));
      }
      const a = await run(join(fromGemm, 'model.onnx'));
      const b = await run(join(fromMatMul, 'model.onnx'));
      expect(maxAbsoluteDifference(a.logits, b.logits)).toBe(0);
    }
  });

  it('q8: DynamicQuantizeMatMul on the int8 [K, N] codes is within its activation rounding of the fp32 graph holding the dequantized table', async () => {
    const input = await writeModel(join(root, 'q8-source'), { table }, gemmLmHead());
    const output = join(root, 'q8');
    await mkdir(output);
    const result = await quantizeModelFile(input, output, 'model_quantized.onnx', { dtype: 'q8' });
    expect(result.tensors.map((tensor) => [tensor.kind, tensor.op])).toEqual([
      ['table', 'Gather+Cast+Mul (int8 rows)'],
      ['gemm', 'DynamicQuantizeMatMul'],
    ]);
    const model = onnx.ModelProto.decode(await readFile(join(output, 'model_quantized.onnx')));
    expect(model.graph!.node!.find((node) => node.name === 'lm_head/Gemm_quantized')!.opType).toBe('DynamicQuantizeMatMul');
    // One scale per row of T (per output column of W = Tᵀ), as for the gathered rows.
    const restored = dequantizeInt8(quantizeInt8(table, { rows: vocab, columns: width, axis: 'per-row' }));
    const reference = await run(await writeModel(join(root, 'dequantized-int8'), { table: restored }, gemmLmHead()));
    const got = await run(join(output, 'model_quantized.onnx'));
    expect(maxAbsoluteDifference(got.embedded, reference.embedded)).toBe(0);
    // DynamicQuantizeMatMul also rounds the activations to uint8 (one scale per tensor), so the
    // match is to that rounding: measured 0.041 (0.62 % of the largest logit, 6.7); bound 1.5 %.
    expect(maxAbsoluteDifference(got.logits, reference.logits)).toBeLessThan(0.015 * maxAbsolute(reference.logits));
  });

  it('leaves a Gemm with transB=0 or alpha ≠ 1 float, says why, and refuses a graph with only such Gemms', async () => {
    const copy = transpose(table, vocab, width);
    const input = await writeModel(
      join(root, 'unsupported'),
      { table, extra: [['table_t', [width, vocab], copy]] },
      [
        makeNode('Gemm', 'lm_head/Gemm', ['rows', 'table'], ['product'], { transB: 1, alpha: { float: 0.5 } }),
        makeNode('Gemm', 'plain/Gemm', ['rows', 'table_t'], ['plain']),
      ],
      [valueInfo('plain', DATA_TYPE.float32, ['rows', vocab])],
    );
    const output = join(root, 'unsupported-q4');
    await mkdir(output);
    const result = await quantizeModelFile(input, output, 'model_q4.onnx', { dtype: 'q4' });
    // Only the Gather's table is quantized; both Gemms still read the fp32 weights.
    expect(result.tensors.map((tensor) => tensor.kind)).toEqual(['table']);
    expect(result.skipped).toEqual([
      { node: 'lm_head/Gemm', opType: 'Gemm', tensor: 'table', reason: 'left float: alpha=0.5 (the quantized ops have no output scale)' },
      {
        node: 'plain/Gemm',
        opType: 'Gemm',
        tensor: 'table_t',
        reason: 'left float: transB=0 (only Gemm with transB=1 on a [N, K] weight is quantized; write a product with a [K, N] weight as MatMul)',
      },
    ]);
    const model = onnx.ModelProto.decode(await readFile(join(output, 'model_q4.onnx')));
    expect(model.graph!.node!.filter((node) => node.opType === 'Gemm').map((node) => node.input)).toEqual([
      ['rows', 'table'],
      ['rows', 'table_t'],
    ]);
    const source = await run(input);
    const got = await run(join(output, 'model_q4.onnx'));
    expect(got.logits).toEqual(source.logits);
    // Nothing else to quantize (tables off): the error names the Gemms left float and why.
    await expect(quantizeModelFile(input, output, 'never.onnx', { dtype: 'q4', quantizeTables: false })).rejects.toSatisfy(
      (error: unknown) =>
        InputError.isInstance(error) &&
        /has nothing to quantize: .*; Gemm lm_head\/Gemm on table was left float: alpha=0\.5 .*; Gemm plain\/Gemm on table_t was left float: transB=0/.test((error as Error).message),
    );
  });
});

describe('a converted optimized folder with the Gemm(transB=1) lm_head', () => {
  it('q4 turns its lm_head into MatMulNBits and, with accuracy_level 0, equals the fp32 folder holding dequantize(quantize(W))', async () => {
    const fp32Dir = join(root, 'optimized-gemm');
    // convertCheckpoint forwards every graph option, but its type lists only three of them (not
    // `lmHead`); the Gemm count below fails loudly should the option stop reaching the builder.
    const graphOptions = { graph: 'optimized', lmHead: 'gemm-transposed-b' } as MakeTinyModelOptions['graphOptions'];
    await makeTinyModel(fp32Dir, { shape: 'tiny-window-4', seed: 1, graphOptions });
    const before = onnx.ModelProto.decode(await readFile(join(fp32Dir, 'onnx/decoder_model_merged.onnx')));
    expect(before.graph!.node!.filter((node) => node.opType === 'Gemm').length).toBe(1);
    const exact = await quantizeModelFolder(fp32Dir, join(root, 'optimized-gemm-q4'), { dtype: 'q4', accuracyLevel: 0 });
    const decoder = exact.sessions.find((session) => session.session === 'decoder_model_merged')!;
    expect(decoder.skipped).toEqual([]);
    expect(decoder.tensors.filter((tensor) => tensor.kind === 'gemm').map((tensor) => tensor.op)).toEqual(['MatMulNBits']);
    const after = onnx.ModelProto.decode(await readFile(join(root, 'optimized-gemm-q4/onnx/decoder_model_merged_q4.onnx')));
    expect(after.graph!.node!.filter((node) => node.opType === 'Gemm')).toEqual([]);
    await quantizeModelFolder(fp32Dir, join(root, 'optimized-gemm-emulated'), { dtype: 'q4', emulate: true });
    const prompts = seededPrompts({ count: 4, length: 16, vocabulary: 320, seed: 7 });
    const result = await evaluateQuantization({
      ort: ort as unknown as OrtRuntime,
      referenceDir: join(root, 'optimized-gemm-emulated'),
      referenceDtype: 'q4',
      quantizedDir: join(root, 'optimized-gemm-q4'),
      prompts,
    });
    expect(result.positions).toBe(64);
    expect(result.topOneAgreement).toBe(1);
    // Measured 0 on this machine; float32 summation order would show as ~1e-13.
    expect(result.meanKl).toBeLessThan(1e-9);
  });

  it('gemma3n quantize logs each Gemm it leaves float, with the reason', async () => {
    const dir = join(root, 'folder-with-scaled-gemm');
    await writeModel(join(dir, 'onnx'), { table }, gemmLmHead({ transB: 1, alpha: { float: 0.5 } }));
    await writeFile(join(dir, 'config.json'), '{}\n');
    const lines: string[] = [];
    await runQuantizeCommand({ dir, dtype: 'q4' }, { log: (line) => lines.push(line) });
    expect(lines).toContain('onnx/model_q4.onnx: Gemm lm_head/Gemm on table left float: alpha=0.5 (the quantized ops have no output scale)');
  });
});
