import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dequantizeGatherBlockQuantized, dequantizeMatMulNBits, quantizeGatherBlockQuantized, quantizeMatMulNBits } from './blockwise-4bit';
import { dequantizeInt8, quantizeInt8 } from './int8';
import { bytesOf, DATA_TYPE, encodeModel, inlineTensor, valueInfo } from './onnx/onnx-nodes';
import type { OnnxTypes } from './onnx/onnx-proto';
import { dynamicQuantizeMatMulNode, gatherBlockQuantizedNode, int8GatherNodes, matMulNBitsNode } from './onnx/quantized-nodes';

/**
 * The layouts of blockwise-4bit.ts and int8.ts, run through the real onnxruntime-node kernels:
 * each quantized op must equal "dequantize with our function, then the float op".
 */

function seeded(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

/** A · W in float64 for A [M, K], W [K, N]. */
function matMul(a: Float32Array, w: Float32Array, m: number, k: number, n: number): Float64Array {
  const result = new Float64Array(m * n);
  for (let row = 0; row < m; row++) for (let inner = 0; inner < k; inner++) {
    const left = a[row * k + inner]!;
    for (let column = 0; column < n; column++) result[row * n + column] = result[row * n + column]! + left * w[inner * n + column]!;
  }
  return result;
}

async function run(graph: OnnxTypes.IGraphProto, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(graph), { executionProviders: ['cpu'] });
  try {
    const outputs = await session.run(feeds);
    return outputs[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxRelativeError(actual: Float32Array, expected: Float64Array): number {
  let worst = 0;
  let scale = 0;
  for (let index = 0; index < expected.length; index++) {
    worst = Math.max(worst, Math.abs(actual[index]! - expected[index]!));
    scale = Math.max(scale, Math.abs(expected[index]!));
  }
  return worst / scale;
}

describe('onnxruntime-node kernels read our layouts', () => {
  const m = 3;
  const k = 200; // not a multiple of any block size: the last block is partial
  const n = 24;
  const a = seeded(m * k, 1);
  const w = seeded(k * n, 2);

  for (const blockSize of [32, 64, 128]) {
    for (const symmetric of [true, false]) {
      it(`MatMulNBits block ${blockSize}, ${symmetric ? 'symmetric (no zero points)' : 'asymmetric'} = A · dequantize(W)`, async () => {
        const quantized = quantizeMatMulNBits(w, { k, n, layout: 'k-by-n' }, { blockSize, symmetric });
        const initializers = [
          inlineTensor('B', DATA_TYPE.uint8, [n, quantized.blocksPerColumn, blockSize / 2], quantized.data),
          inlineTensor('scales', DATA_TYPE.float32, [n * quantized.blocksPerColumn], bytesOf(quantized.scales)),
        ];
        if (quantized.zeroPoints) initializers.push(inlineTensor('zero_points', DATA_TYPE.uint8, [quantized.zeroPoints.length], quantized.zeroPoints));
        const expected = matMul(a, dequantizeMatMulNBits(quantized), m, k, n);
        for (const accuracyLevel of [0, 4]) {
          const node = matMulNBitsNode(
            'q',
            { input: 'A', output: 'Y', data: 'B', scales: 'scales', zeroPoints: quantized.zeroPoints ? 'zero_points' : null },
            { k, n, blockSize, accuracyLevel },
          );
          const y = await run(
            { name: 'g', node: [node], initializer: initializers, input: [valueInfo('A', DATA_TYPE.float32, [m, k])], output: [valueInfo('Y', DATA_TYPE.float32, [m, n])] },
            { A: new ort.Tensor('float32', a, [m, k]) },
          );
          // accuracy_level 4 quantizes A to int8 on this CPU (measured rel. error ≈ 4e-3).
          expect(maxRelativeError(y, expected)).toBeLessThan(accuracyLevel === 0 ? 1e-5 : 2e-2);
        }
      });
    }
  }

  it('DynamicQuantizeMatMul with int8 per-column weights ≈ A · dequantize(W) (A is quantized to uint8 on the fly)', async () => {
    // Columns of very different magnitudes, so per-column scales matter.
    const spread = w.map((value, index) => value * (1 + (index % n)));
    const quantized = quantizeInt8(spread, { rows: k, columns: n, axis: 'per-column' });
    const node = dynamicQuantizeMatMulNode('q', { input: 'A', output: 'Y', data: 'B', scales: 'scales' });
    const y = await run(
      {
        name: 'g',
        node: [node],
        initializer: [
          inlineTensor('B', DATA_TYPE.int8, [k, n], bytesOf(quantized.data)),
          inlineTensor('scales', DATA_TYPE.float32, [n], bytesOf(quantized.scales)),
        ],
        input: [valueInfo('A', DATA_TYPE.float32, [m, k])],
        output: [valueInfo('Y', DATA_TYPE.float32, [m, n])],
      },
      { A: new ort.Tensor('float32', a, [m, k]) },
    );
    const expected = matMul(a, dequantizeInt8(quantized), m, k, n);
    const error = maxRelativeError(y, expected);
    expect(error).toBeLessThan(2e-2);
    // And the scales really were applied per column: with them reversed the result is far off.
    const wrong = matMul(a, dequantizeInt8({ ...quantized, scales: quantized.scales.slice().reverse() }), m, k, n);
    expect(maxRelativeError(y, wrong)).toBeGreaterThan(0.5);
  });

  for (const symmetric of [true, false]) {
    it(`GatherBlockQuantized bits 4, block 32, ${symmetric ? 'no zero points' : 'zero points'}: rows equal our dequantized table exactly`, async () => {
      const rows = 11;
      const columns = 80; // two full blocks and a half one
      const table = seeded(rows * columns, 5);
      const quantized = quantizeGatherBlockQuantized(table, { rows, columns }, { blockSize: 32, symmetric });
      const initializers = [
        inlineTensor('data', DATA_TYPE.uint8, [rows, columns / 2], quantized.data),
        inlineTensor('scales', DATA_TYPE.float32, [rows, quantized.blocksPerRow], bytesOf(quantized.scales)),
      ];
      if (quantized.zeroPoints) initializers.push(inlineTensor('zero_points', DATA_TYPE.uint8, [rows, Math.ceil(quantized.blocksPerRow / 2)], quantized.zeroPoints));
      const node = gatherBlockQuantizedNode('q', { indices: 'ids', output: 'Y', data: 'data', scales: 'scales', zeroPoints: quantized.zeroPoints ? 'zero_points' : null }, 32);
      const ids = [10, 0, 3, 3, 7];
      const y = await run(
        { name: 'g', node: [node], initializer: initializers, input: [valueInfo('ids', DATA_TYPE.int64, [1, ids.length])], output: [valueInfo('Y', DATA_TYPE.float32, [1, ids.length, columns])] },
        { ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) },
      );
      const restored = dequantizeGatherBlockQuantized(quantized);
      expect(y).toEqual(Float32Array.from(ids.flatMap((id) => Array.from(restored.subarray(id * columns, (id + 1) * columns)))));
    });
  }

  it('int8 rows + per-row scales through Gather, Cast, Mul equal our dequantized table exactly', async () => {
    const rows = 9;
    const columns = 12;
    const table = seeded(rows * columns, 9);
    const quantized = quantizeInt8(table, { rows, columns, axis: 'per-row' });
    const nodes = int8GatherNodes('/embed', { indices: 'ids', output: 'Y', data: 'data', scales: 'scales', lastAxis: 'axes' });
    const ids = [8, 1, 1];
    const y = await run(
      {
        name: 'g',
        node: nodes,
        initializer: [
          inlineTensor('data', DATA_TYPE.int8, [rows, columns], bytesOf(quantized.data)),
          inlineTensor('scales', DATA_TYPE.float32, [rows], bytesOf(quantized.scales)),
          inlineTensor('axes', DATA_TYPE.int64, [1], bytesOf(BigInt64Array.from([-1n]))),
        ],
        input: [valueInfo('ids', DATA_TYPE.int64, [1, ids.length])],
        output: [valueInfo('Y', DATA_TYPE.float32, [1, ids.length, columns])],
      },
      { ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) },
    );
    const restored = dequantizeInt8(quantized);
    expect(y).toEqual(Float32Array.from(ids.flatMap((id) => Array.from(restored.subarray(id * columns, (id + 1) * columns)))));
  });
});
