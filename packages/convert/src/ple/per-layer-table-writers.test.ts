import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError, parseGemma3nConfig, perLayerTableLayout, UnsupportedError } from '@gemma3n/core';
import { randomCheckpointWeights, TINY_TEXT_SHAPES } from '../checkpoint/index';
import { writeOnnxModel } from '../onnx/onnx-model-file';
import { buildEmbedTokensGraph } from '../text/embed-tokens-graph';
import { encodePerLayerRows, float32ToFloat16Bits, layoutForEncoding } from './per-layer-table-encoders';
import { PerLayerTableFileWriter } from './per-layer-table-file-writer';
import { offloadPerLayerEmbeddings, runOffloadPleCommand } from './offload-per-layer-embeddings';
import { perLayerTableFileName, textEmbedFileName, writePerLayerTableFromCheckpoint } from './write-per-layer-table';

const rawConfig = TINY_TEXT_SHAPES['tiny-window-4'] as Record<string, unknown>;
const config = parseGemma3nConfig(rawConfig);
const shape = { rows: 320, numLayers: 9, layerWidth: 8, outputScale: Math.sqrt(8) };
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ple-writers-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('record layouts and encoders', () => {
  it('lays records out as scales, zero points, data, padded to 4 bytes', () => {
    expect(layoutForEncoding('q8', shape)).toMatchObject({ rowWidth: 72, blockSize: 32, blocksPerRow: 3, dataOffset: 12, recordBytes: 84, zeroPoints: 0 });
    expect(layoutForEncoding('q4', shape).recordBytes).toBe(12 + 36);
    expect(layoutForEncoding('fp16', shape)).toMatchObject({ recordBytes: 144, scaleType: 'none', blockSize: 0 });
    expect(layoutForEncoding('fp32', shape).recordBytes).toBe(288);
    // 9 fp16 values = 18 bytes → 20; stored zero points sit between scales and data.
    expect(perLayerTableLayout({ rows: 1, numLayers: 3, layerWidth: 3, dataType: 'float16', outputScale: 1 }).recordBytes).toBe(20);
    expect(perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 10, dataType: 'uint4', blockSize: 4, scaleType: 'float16', zeroPoints: 'stored', outputScale: 1 })).toMatchObject({
      blocksPerRow: 3,
      zeroPointsOffset: 6,
      dataOffset: 9,
      recordBytes: 16,
    });
    expect(() => perLayerTableLayout({ rows: 1, numLayers: 1, layerWidth: 4, dataType: 'uint8', zeroPoints: 300, outputScale: 1 })).toThrow(
      'zero point 300 is outside the uint8 range [0, 255]',
    );
  });

  it('quantizes q8 and q4 blocks symmetrically with max|x| scales', () => {
    const one = { rows: 1, numLayers: 1, layerWidth: 4, outputScale: 1 };
    const q8 = encodePerLayerRows(layoutForEncoding('q8', one), Float32Array.of(12.7, -3.14, 0.04, -12.7), 1);
    const q8View = new DataView(q8.buffer);
    expect(q8View.getFloat32(0, true)).toBe(Math.fround(12.7 / 127));
    expect(Array.from(new Int8Array(q8.buffer, 4, 4))).toEqual([127, -31, 0, -127]);
    const q4 = encodePerLayerRows(layoutForEncoding('q4', one), Float32Array.of(7, -3.4, 2.6, -7), 1);
    expect(new DataView(q4.buffer).getFloat32(0, true)).toBe(1);
    // Low nibble first: (7, −3) → 0xD7, (3, −7) → 0x93.
    expect(Array.from(q4.subarray(4, 6))).toEqual([0xd7, 0x93]);
    // An all-zero block has scale 0 and zero values, not NaN.
    const zeros = encodePerLayerRows(layoutForEncoding('q8', one), new Float32Array(4), 1);
    expect(Array.from(zeros)).toEqual(new Array(8).fill(0));
  });

  it('rounds to half precision to nearest, ties to even, with subnormals and overflow', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [3 * 2 ** -25, 0x0002],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [Number.NaN, 0x7e00],
    ];
    for (const [value, bits] of cases) expect(float32ToFloat16Bits(value), String(value)).toBe(bits);
  });
});

describe('PerLayerTableFileWriter', () => {
  it('renames a complete file into place and leaves nothing behind when rows are missing', async () => {
    const folder = join(directory, 'writer');
    const layout = layoutForEncoding('fp32', { rows: 3, numLayers: 1, layerWidth: 2, outputScale: 1 });
    const writer = await PerLayerTableFileWriter.create(join(folder, 'complete.safetensors'), layout);
    await writer.writeRecords(encodePerLayerRows(layout, Float32Array.of(1, 2, 3, 4), 2));
    await writer.writeRecords(encodePerLayerRows(layout, Float32Array.of(5, 6), 1));
    await expect(writer.writeRecords(new Uint8Array(8))).rejects.toThrow('writing 1 more rows would pass the table');
    await writer.finish();
    const bytes = await readFile(join(folder, 'complete.safetensors'));
    expect(bytes.length).toBe(4096 + 3 * 8);
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + 4096, bytes.byteOffset + 4096 + 24)))).toEqual([1, 2, 3, 4, 5, 6]);
    // The safetensors header: length, then JSON naming the one U8 tensor.
    const headerLength = bytes.readUInt32LE(0);
    expect(headerLength).toBe(4088);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    expect(header.records).toEqual({ dtype: 'U8', shape: [3, 8], data_offsets: [0, 24] });
    expect(header.__metadata__).toMatchObject({ format: 'gemma3n-per-layer-embeddings', version: '1', data_type: 'float32', rows: '3', record_bytes: '8' });

    const short = await PerLayerTableFileWriter.create(join(folder, 'short.safetensors'), layout);
    await short.writeRecords(new Uint8Array(8));
    await expect(short.finish()).rejects.toThrow('1 of 3 rows were written');
    expect((await readdir(folder)).sort()).toEqual(['complete.safetensors']);
  });
});

describe('offloadPerLayerEmbeddings and the checkpoint writer', () => {
  async function embedFolder(name: string): Promise<{ folder: string; weights: ReturnType<typeof randomCheckpointWeights> }> {
    const folder = join(directory, name);
    const weights = randomCheckpointWeights(rawConfig, { seed: 3 });
    await writeOnnxModel({ directory: join(folder, 'onnx'), fileName: 'embed_tokens.onnx', graphName: 'embed_tokens' }, (graph) =>
      buildEmbedTokensGraph(config, weights, graph),
    );
    await writeFile(join(folder, 'config.json'), JSON.stringify(rawConfig));
    return { folder, weights };
  }

  it('names the companion files after the embed file', () => {
    expect(perLayerTableFileName('onnx/embed_tokens_quantized.onnx')).toBe('onnx/embed_tokens_per_layer_quantized.safetensors');
    expect(textEmbedFileName('onnx/embed_tokens_q4f16.onnx')).toBe('onnx/embed_tokens_text_q4f16.onnx');
    expect(() => textEmbedFileName('onnx/decoder_model_merged.onnx')).toThrow('is not named embed_tokens{suffix}.onnx');
  });

  it('re-encodes an fp32 graph table to the same bytes as the checkpoint writer', async () => {
    const { folder, weights } = await embedFolder('reencode');
    const [fromGraph] = await offloadPerLayerEmbeddings(folder, { encoding: 'q8', blockBytes: 84 * 50 });
    const fromCheckpoint = await writePerLayerTableFromCheckpoint(config, weights, join(folder, 'checkpoint'), { encoding: 'q8', rowBlockBytes: 4096 });
    const graphBytes = await readFile(join(folder, fromGraph!.tableFile));
    const checkpointBytes = await readFile(join(folder, 'checkpoint', fromCheckpoint.file));
    expect(graphBytes.length).toBe(4096 + 320 * 84);
    expect(graphBytes.subarray(4096).equals(checkpointBytes.subarray(4096))).toBe(true);
    expect(graphBytes.subarray(4096).some((byte) => byte !== 0)).toBe(true);
  });

  it('reports a short .onnx_data with both sizes, a graph without the table, and re-encoding a quantized table', async () => {
    const { folder } = await embedFolder('errors');
    const [result] = await offloadPerLayerEmbeddings(folder);
    // The text-only graph has no per-layer table to split.
    await expect(offloadPerLayerEmbeddings(folder, { embedFiles: [result!.textEmbedFile] })).rejects.toThrow(
      /has no per_layer_inputs output \(outputs: inputs_embeds\); it holds no per-layer table/,
    );
    const dataPath = join(folder, 'onnx/embed_tokens.onnx_data');
    const size = (await readFile(dataPath)).length;
    await truncate(dataPath, size - 1000);
    const error = await offloadPerLayerEmbeddings(folder).catch((caught: unknown) => caught);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ problem: 'short', path: 'embed_tokens.onnx_data', expectedBytes: size, actualBytes: size - 1000 });
    expect((error as Error).message).toContain(`is shorter than embed_tokens.onnx needs (expected at least ${size} bytes for initializer`);


    // A Gather + DequantizeLinear table (quantize_dynamic's form) is copied, never re-quantized.
    const quantizedFolder = join(directory, 'dequantize');
    await writeOnnxModel({ directory: join(quantizedFolder, 'onnx'), fileName: 'embed_tokens_quantized.onnx' }, async (graph) => {
      const ids = graph.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
      const table = await graph.initializer('/embed_tokens_per_layer/weight_quantized', 'uint8', [320, 72], new Uint8Array(320 * 72).fill(9));
      const scale = await graph.initializer('/embed_tokens_per_layer/weight_scale', 'float32', [], Float32Array.of(0.5));
      const rows = graph.node('DequantizeLinear', [graph.node('Gather', [table, ids], { attributes: { axis: 0 } })[0]!, scale])[0]!;
      // The output scale as exporters often write it: a Constant node with value_float.
      const scale16 = graph.node('Constant', [], { attributes: { value_float: { float: 2.5 } } })[0]!;
      const scaled = graph.node('Mul', [rows, scale16])[0]!;
      graph.output(graph.node('Reshape', [scaled, graph.int64([0, 0, 9, 8])])[0]!, 'per_layer_inputs', 'float32', ['batch_size', 'sequence_length', 9, 8]);
    });
    await writeFile(join(quantizedFolder, 'config.json'), JSON.stringify(rawConfig));
    const refused = await offloadPerLayerEmbeddings(quantizedFolder, { encoding: 'q8' }).catch((caught: unknown) => caught);
    expect(UnsupportedError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toContain('is already quantized (Gather of /embed_tokens_per_layer/weight_quantized [320, 72] uint8 + DequantizeLinear)');
    const [copied] = await offloadPerLayerEmbeddings(quantizedFolder);
    expect(copied!.layout).toMatchObject({ dataType: 'uint8', blockSize: 72, zeroPoints: 0, recordBytes: 76, outputScale: 2.5 });
    const record = (await readFile(join(quantizedFolder, copied!.tableFile))).subarray(4096, 4096 + 76);
    expect(record.readFloatLE(0)).toBe(0.5);
    expect(Array.from(record.subarray(4))).toEqual(new Array(72).fill(9));
  });

  it('logs what the command wrote', async () => {
    const { folder } = await embedFolder('command');
    const lines: string[] = [];
    await runOffloadPleCommand({ dir: folder, encoding: 'q4' }, { log: (line) => lines.push(line) });
    expect(lines.at(-1)).toMatch(
      /^onnx\/embed_tokens.onnx: per-layer table \(Gather of \/embed_tokens_per_layer\/weight \[320, 72\] float32\) → onnx\/embed_tokens_per_layer.safetensors \(0\.0 MiB, int4, 48 bytes per token\); onnx\/embed_tokens_text.onnx loads 0\.\d MiB instead of 0\.\d MiB$/,
    );
    expect(lines.filter((line) => line.endsWith('100 %'))).toHaveLength(1);
  });
});
