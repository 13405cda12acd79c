import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { writeOnnxModel } from './onnx-model-file';

describe('OnnxGraphBuilder', () => {
  it('names nodes and outputs by scope, de-duplicating repeated names', () => {
    const graph = new OnnxGraphBuilder({ graphName: 'names' });
    const layer = graph.scope('/model/layers.3').scope('attn');
    const x = graph.input('x', 'float32', [2]);
    const first = layer.op('Relu', [x]);
    const second = layer.op('Relu', [first]);
    expect(first).toBe('/model/layers.3/attn/Relu/output_0');
    expect(second).toBe('/model/layers.3/attn/Relu_1/output_0');
    expect(() => graph.input('x', 'float32', [2])).toThrow('graph names: the name x is already used');
  });

  it('shares int64 and float constants with the same values', () => {
    const graph = new OnnxGraphBuilder({ graphName: 'constants' });
    expect(graph.int64([0, 0, 4])).toBe(graph.int64([0, 0, 4]));
    expect(graph.int64([1], [])).not.toBe(graph.int64([1]));
    expect(graph.float32(0.5)).toBe(graph.float32(0.5));
    expect(graph.initializers).toHaveLength(4);
  });

  it('encodes INT, FLOAT (also whole-number floats), INTS and STRING attributes that ORT honours', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'attributes-'));
    try {
      await writeOnnxModel({ directory, fileName: 'attributes.onnx' }, (graph) => {
        const x = graph.input('x', 'float32', [2, 3]);
        // LeakyRelu alpha = 2 must be FLOAT even though it is a whole number.
        const leaky = graph.node('LeakyRelu', [x], { attributes: { alpha: { float: 2 } } })[0]!;
        const transposed = graph.node('Transpose', [leaky], { attributes: { perm: [1, 0] } })[0]!;
        const [left, right] = graph.node('Split', [transposed, graph.int64([1, 2])], { outputCount: 2, attributes: { axis: 0 } });
        const gelu = graph.node('Gelu', [right!], { attributes: { approximate: 'tanh' } })[0]!;
        const scaled = graph.node('Mul', [left!, graph.float32(0.25)])[0]!;
        graph.output(scaled, 'first_row', 'float32', [1, 2]);
        graph.output(gelu, 'gelu_rows', 'float32', [2, 2]);
      });
      const session = await ort.InferenceSession.create(join(directory, 'attributes.onnx'));
      const { first_row: firstRow, gelu_rows: geluRows } = await session.run({
        x: new ort.Tensor('float32', Float32Array.from([-1, 0.5, 2, 3, -4, 1]), [2, 3]),
      });
      await session.release();
      // Column 0 of x is (−1, 3): LeakyRelu(α=2) gives (−2, 3), times 0.25.
      expect(Array.from(firstRow!.data as Float32Array)).toEqual([-0.5, 0.75]);
      // gelu_tanh(v) = ½v(1 + tanh(√(2/π)(v + 0.044715v³))) on columns 1..2 of LeakyRelu(x).
      const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      const expected = [0.5, -8, 2, 1].map(geluTanh);
      const actual = Array.from(geluRows!.data as Float32Array);
      actual.forEach((value, index) => expect(value).toBeCloseTo(expected[index]!, 6));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('rejects float arrays given as plain arrays', () => {
    const graph = new OnnxGraphBuilder({ graphName: 'bad' });
    expect(() => graph.node('Foo', [], { attributes: { values: [0.5, 1] } })).toThrow('wrap floats as { floats: [...] }');
  });
});
