import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { randomCheckpointWeights } from '../checkpoint/random-checkpoint-weights';
import { RandomNumberGenerator } from '../checkpoint/random-number-generator';
import { tinyShapeConfig } from '../checkpoint/tiny-text-shapes';
import type { ExternalDataWriter } from '../onnx/external-data-writer';
import { OnnxGraphBuilder } from '../onnx/onnx-graph-builder';
import { onnx } from '../onnx/onnx-proto';
import type { TensorInfo, TensorSource } from '../tensor-source';
import { expectedVisionTensors } from './expected-vision-tensors';
import { mobilenetV5Architecture } from './mobilenet-v5-architecture';
import { randomVisionTowerWeights } from './random-vision-weights';
import { buildVisionEncoderGraph, writeVisionEncoderGraph } from './vision-encoder-graph';

/**
 * Shapes only: every read returns zeros of the announced shape. Lets the full-size graph be
 * built without 1.2 GB of random weights.
 */
class ZeroTensorSource implements TensorSource {
  readonly reads: string[] = [];
  constructor(private readonly shapes: Map<string, number[]>) {}
  has(name: string): boolean {
    return this.shapes.has(name);
  }
  info(name: string): TensorInfo {
    const shape = this.shapes.get(name);
    if (!shape) throw new Error(`tensor ${name} is not in this source`);
    return { name, shape, dtype: 'BF16' };
  }
  async read(name: string): Promise<Float32Array> {
    this.reads.push(name);
    return new Float32Array(this.info(name).shape.reduce((product, size) => product * size, 1));
  }
  names(): string[] {
    return [...this.shapes.keys()];
  }
}

/** An external-data sink that only counts bytes (the graph test needs locations, not files). */
function countingExternalData(): { writer: ExternalDataWriter; bytes: () => number } {
  let offset = 0;
  const place = (byteLength: number) => {
    const location = { location: 'vision_encoder.onnx_data', offset, length: byteLength };
    offset += byteLength;
    return location;
  };
  const writer = {
    async write(_name: string, byteLength: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>) {
      let seen = 0;
      for await (const chunk of chunks) seen += chunk.byteLength;
      if (seen !== byteLength) throw new Error(`announced ${byteLength} bytes, got ${seen}`);
      return place(byteLength);
    },
    async reserve(_name: string, byteLength: number) {
      return { location: place(byteLength), writeAt: async () => undefined };
    },
  };
  return { writer: writer as unknown as ExternalDataWriter, bytes: () => offset };
}

describe('vision_encoder.onnx at full size (MobileNetV5-300M, 768×768)', () => {
  it('builds with the real input and output dims and reads every §6 tensor once', async () => {
    const raw = tinyShapeConfig('tiny-mha-every-5'); // text hidden 64 keeps the projection small
    const vision = raw['vision_config'] as Record<string, unknown>;
    vision['hidden_size'] = 2048;
    const config = parseGemma3nConfig(raw);
    const towerTensors = expectedVisionTensors(mobilenetV5Architecture());
    const shapes = new Map(towerTensors.map((tensor) => [tensor.name, tensor.shape]));
    shapes.set('model.embed_vision.soft_embedding_norm.weight', [2048]);
    shapes.set('model.embed_vision.embedding_projection.weight', [64, 2048]);
    const source = new ZeroTensorSource(shapes);
    const external = countingExternalData();
    const graph = new OnnxGraphBuilder({ graphName: 'vision_encoder', externalData: external.writer });
    await buildVisionEncoderGraph(config, source, graph);

    const dims = (info: (typeof graph.inputs)[number]) => info.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue));
    expect(graph.inputs.map((input) => [input.name, dims(input)])).toEqual([['pixel_values', ['batch_size', 3, 768, 768]]]);
    expect(graph.outputs.map((output) => [output.name, dims(output)])).toEqual([['image_features', ['batch_size', 256, 64]]]);
    expect([...source.reads].sort()).toEqual([...shapes.keys()].sort());
    // 294,126,912 tower parameters + 2048 + 64·2048 embedder values, as float32.
    const parameterCount = [...shapes.values()].reduce((sum, shape) => sum + shape.reduce((product, size) => product * size, 1), 0);
    expect(parameterCount).toBe(294_126_912 + 2048 + 64 * 2048);
    const inlineBytes = graph.initializers.reduce((sum, tensor) => sum + (tensor.rawData?.byteLength ?? 0), 0);
    expect(external.bytes() + inlineBytes).toBeGreaterThanOrEqual(parameterCount * 4);

    const count = (opType: string) => graph.nodes.filter((node) => node.opType === opType).length;
    // Attention blocks: 14 in stage 2, 19 in stage 3; stage 2's each downsample K and V.
    expect(count('Softmax')).toBe(33);
    const downConvs = graph.nodes.filter((node) => node.opType === 'Conv' && node.name!.includes('down_conv'));
    expect(downConvs).toHaveLength(28);
    const attribute = (node: (typeof graph.nodes)[number], name: string) => node.attribute!.find((entry) => entry.name === name)!.ints!.map(Number);
    expect(new Set(downConvs.map((node) => `${attribute(node, 'strides')}|${attribute(node, 'pads')}`))).toEqual(new Set(['2,2|0,0,1,1']));
    const stem = graph.nodes.find((node) => node.name === '/vision_tower/conv_stem/conv/Conv')!;
    expect(stem.input).toHaveLength(3); // with its bias
    expect(attribute(stem, 'pads')).toEqual([0, 0, 1, 1]);
    const pool = graph.nodes.find((node) => node.opType === 'AveragePool')!;
    expect(attribute(pool, 'kernel_shape')).toEqual([3, 3]);
    expect(new Set(graph.nodes.map((node) => node.opType))).toEqual(
      new Set(['Conv', 'Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div', 'Gelu', 'Reshape', 'Transpose', 'MatMul', 'Softmax', 'Gather', 'Concat', 'AveragePool', 'Identity']),
    );
    // The graph serialises (weights external): a small model file.
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph: graph.toGraphProto() }),
    ).finish();
    expect(bytes.byteLength).toBeLessThan(4 * 1024 * 1024);
  });

  // Opt-in (GEMMA3N_FULL_SIZE_VISION=1): writes the 1.18 GB model from random weights, loads it
  // in onnxruntime-node and runs one 768×768 image: about 55 s on the 2-core dev machine (of
  // which ~12 s loading and ~26 s the run itself). No reference comparison at this size (the plain
  // TypeScript reference would take far longer); the tiny towers cover the numerics.
  it.runIf(process.env['GEMMA3N_FULL_SIZE_VISION'] === '1')('runs in onnxruntime-node on a 768×768 image', async () => {
    const raw = tinyShapeConfig('tiny-mha-every-5');
    (raw['vision_config'] as Record<string, unknown>)['hidden_size'] = 2048;
    const config = parseGemma3nConfig(raw);
    const weights = randomVisionTowerWeights(mobilenetV5Architecture(), { seed: 3, target: randomCheckpointWeights(raw, { seed: 3 }) });
    const directory = await mkdtemp(join(tmpdir(), 'vision-full-size-'));
    try {
      await writeVisionEncoderGraph(config, weights, directory);
      const session = await ort.InferenceSession.create(join(directory, 'vision_encoder.onnx'));
      const random = new RandomNumberGenerator(4);
      const pixels = Float32Array.from({ length: 3 * 768 * 768 }, () => random.uniform());
      const outputs = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, 768, 768]) });
      await session.release();
      const features = outputs.image_features!;
      expect(features.dims).toEqual([1, 256, 64]);
      const values = features.data as Float32Array;
      expect(values.every((value) => Number.isFinite(value))).toBe(true);
      expect(values.subarray(0, 64)).not.toEqual(values.subarray(64 * 255));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 600_000);
});
