import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryModelFiles, type ModelFiles, ModelFileError } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import type { InMemoryTensorSource } from '@gemma3n/convert';
import { offloadPerLayerEmbeddings, writePerLayerTableFromCheckpoint } from '../../../convert/src/ple/index';
import { PerLayerTableReader } from './per-layer-table-reader';
import {
  CONFIG,
  LAYER_WIDTH,
  maxAbsDifference,
  QUANTIZED_FORMS,
  ROW_WIDTH,
  ROWS,
  runEmbedGraph,
  tinyWeights,
  writeQuantizedEmbedGraph,
  writeTinyEmbedFolder,
} from './ple-test-fixtures';

/**
 * Ids of one prompt: repeats (7), the last table row (319), multimodal ids (320, 350, 383:
 * row 0 in the per-layer table, real rows in the token table) and a negative id (row 0).
 */
const PROMPT_IDS = [2, 7, 7, 319, 320, 350, 383, 0, 7, 101, 102, 103, -3];

let folder: string;
let weights: InMemoryTensorSource;
let reference: Float32Array;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'ple-reader-'));
  weights = tinyWeights();
  await writeTinyEmbedFolder(folder, weights);
  reference = (await runEmbedGraph(join(folder, 'onnx/embed_tokens.onnx'), PROMPT_IDS)).per_layer_inputs!;
  expect(reference).toHaveLength(PROMPT_IDS.length * ROW_WIDTH);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** The checkpoint rows an id reads, as float64, for error bounds. */
function checkpointRow(id: number): Float32Array {
  const row = id >= 0 && id < ROWS ? id : 0;
  return weights.get('model.language_model.embed_tokens_per_layer.weight').subarray(row * ROW_WIDTH, (row + 1) * ROW_WIDTH);
}

describe('PerLayerTableReader against onnxruntime (the embed graph’s per_layer_inputs)', () => {
  it('gives exactly the fp32 graph’s values from an fp32 table written from the checkpoint', async () => {
    const directory = join(folder, 'checkpoint-fp32');
    const written = await writePerLayerTableFromCheckpoint(CONFIG, weights, directory, { encoding: 'fp32', rowBlockBytes: 7 * ROW_WIDTH * 4 });
    expect(written.file).toBe('embed_tokens_per_layer.safetensors');
    const reader = await PerLayerTableReader.open(new NodeDirectoryModelFiles(directory), written.file);
    const values = await reader.read(PROMPT_IDS);
    expect(values).toEqual(reference);
    // Not vacuous: the multimodal and negative ids really read row 0, and rows differ.
    expect(values.subarray(4 * ROW_WIDTH, 5 * ROW_WIDTH)).toEqual(values.subarray(7 * ROW_WIDTH, 8 * ROW_WIDTH));
    expect(maxAbsDifference(values.subarray(0, ROW_WIDTH), values.subarray(ROW_WIDTH, 2 * ROW_WIDTH))).toBeGreaterThan(0.1);
    // 7 distinct rows (0, 2, 7, 101–103, 319) of 288 bytes; 101…103 in one read: 5 reads.
    expect(reader.stats).toEqual({ reads: 5, bytesRead: 7 * 288, rowsRead: 7, cacheHits: 0 });
  });

  it('stays within the quantization error bound for q8, q4 and fp16 tables written from the checkpoint', async () => {
    const sqrtP = Math.fround(Math.sqrt(LAYER_WIDTH));
    for (const [encoding, levels] of [['q8', 127], ['q4', 7]] as const) {
      const directory = join(folder, `checkpoint-${encoding}`);
      const written = await writePerLayerTableFromCheckpoint(CONFIG, weights, directory, { encoding });
      const reader = await PerLayerTableReader.open(new NodeDirectoryModelFiles(directory), written.file);
      const values = await reader.read(PROMPT_IDS);
      let worstRatio = 0;
      PROMPT_IDS.forEach((id, position) => {
        const row = checkpointRow(id);
        for (let block = 0; block * 32 < ROW_WIDTH; block++) {
          const columns = row.subarray(block * 32, Math.min(ROW_WIDTH, (block + 1) * 32));
          const bound = (Math.max(...Array.from(columns, Math.abs)) / levels / 2) * sqrtP;
          for (let column = block * 32; column < block * 32 + columns.length; column++) {
            const error = Math.abs(values[position * ROW_WIDTH + column]! - reference[position * ROW_WIDTH + column]!);
            worstRatio = Math.max(worstRatio, error / bound);
          }
        }
      });
      expect(worstRatio, encoding).toBeLessThanOrEqual(1.0001);
      expect(worstRatio, `${encoding} is really quantized`).toBeGreaterThan(0.3);
      // One record per row: 3 float32 scales + 72 values (int8: 84 bytes; int4: 12 + 36 = 48 bytes).
      expect(reader.layout.recordBytes).toBe(encoding === 'q8' ? 84 : 48);
    }
    const directory = join(folder, 'checkpoint-fp16');
    const written = await writePerLayerTableFromCheckpoint(CONFIG, weights, directory, { encoding: 'fp16' });
    const values = await (await PerLayerTableReader.open(new NodeDirectoryModelFiles(directory), written.file)).read(PROMPT_IDS);
    // Half precision: relative error ≤ 2^-11, or ≤ 2^-25 · sqrt(P) absolute for fp16 subnormals.
    const worst = reference.reduce((ratio, value, index) => {
      const bound = Math.max(Math.abs(value) * 2 ** -11, 2 ** -25 * sqrtP) * 1.001;
      return Math.max(ratio, Math.abs(values[index]! - value) / bound);
    }, 0);
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.1);
  });

  it('reproduces our fp32 embed_tokens.onnx exactly after offloadPerLayerEmbeddings, and the text graph keeps inputs_embeds', async () => {
    const [result] = await offloadPerLayerEmbeddings(folder, { embedFiles: ['onnx/embed_tokens.onnx'], blockBytes: 1000 });
    expect(result!.tableFile).toBe('onnx/embed_tokens_per_layer.safetensors');
    expect(result!.textEmbedFile).toBe('onnx/embed_tokens_text.onnx');
    expect(result!.source).toBe('Gather of /embed_tokens_per_layer/weight [320, 72] float32');
    // The table and the few constants only it used (the Reshape shape, sqrt(P)).
    expect(result!.removedInitializerBytes).toBeGreaterThanOrEqual(ROWS * ROW_WIDTH * 4);
    expect(result!.removedInitializerBytes).toBeLessThan(ROWS * ROW_WIDTH * 4 + 256);
    const files = new NodeDirectoryModelFiles(folder);
    const reader = await PerLayerTableReader.open(files, result!.tableFile, { vocabSizePerLayerInput: CONFIG.text.vocabSizePerLayerInput });
    expect(await reader.read(PROMPT_IDS)).toEqual(reference);

    const full = await runEmbedGraph(join(folder, 'onnx/embed_tokens.onnx'), PROMPT_IDS);
    const text = await runEmbedGraph(join(folder, result!.textEmbedFile), PROMPT_IDS);
    expect(Object.keys(text)).toEqual(['inputs_embeds']);
    expect(text.inputs_embeds).toEqual(full.inputs_embeds);
    const textDataBytes = (await readFile(join(folder, 'onnx/embed_tokens_text.onnx_data'))).byteLength;
    const fullDataBytes = (await readFile(join(folder, 'onnx/embed_tokens.onnx_data'))).byteLength;
    expect(fullDataBytes - textDataBytes).toBeGreaterThanOrEqual(ROWS * ROW_WIDTH * 4 - 4096); // alignment padding may shift
  });

  it.each(QUANTIZED_FORMS)('copies a %s table without re-quantizing: exactly the graph’s values', async (form) => {
    const directory = join(folder, `form-${form}`);
    await writeQuantizedEmbedGraph(directory, 'embed_tokens_quantized.onnx', form);
    const expected = await runEmbedGraph(join(directory, 'onnx/embed_tokens_quantized.onnx'), PROMPT_IDS);
    const [result] = await offloadPerLayerEmbeddings(directory);
    expect(result!.tableFile).toBe('onnx/embed_tokens_per_layer_quantized.safetensors');
    const reader = await PerLayerTableReader.open(new NodeDirectoryModelFiles(directory), result!.tableFile);
    const values = await reader.read(PROMPT_IDS);
    expect(maxAbsDifference(values, expected.per_layer_inputs!)).toBe(0);
    expect(new Set(values).size).toBeGreaterThan(50); // real data, not zeros

    const text = await runEmbedGraph(join(directory, result!.textEmbedFile), PROMPT_IDS);
    expect(text.inputs_embeds).toEqual(expected.inputs_embeds);
  });
});

describe('PerLayerTableReader files and cache', () => {
  async function tableBytes(): Promise<Uint8Array> {
    const directory = join(folder, 'checkpoint-bytes');
    const written = await writePerLayerTableFromCheckpoint(CONFIG, weights, directory, { encoding: 'q8' });
    return new Uint8Array(await readFile(join(directory, written.file)));
  }

  it('reports a truncated file with the expected and actual sizes, naming it', async () => {
    const bytes = await tableBytes();
    const path = 'onnx/embed_tokens_per_layer_quantized.safetensors';
    const files = new MemoryModelFiles({ [path]: bytes.subarray(0, bytes.length - 100) }, '/models/e2b');
    let error: unknown;
    try {
      await PerLayerTableReader.open(files, path);
    } catch (caught) {
      error = caught;
    }
    expect(ModelFileError.isInstance(error)).toBe(true);
    const modelFileError = error as ModelFileError;
    expect(modelFileError.problem).toBe('truncated');
    expect([modelFileError.expectedBytes, modelFileError.actualBytes]).toEqual([bytes.length, bytes.length - 100]);
    expect(bytes.length).toBe(4096 + ROWS * 84);
    expect(modelFileError.message).toBe(
      `Per-layer embedding file "${path}" in /models/e2b is truncated: expected ${bytes.length} bytes ` +
        `(4096-byte header + 320 rows × 84 bytes), got ${bytes.length - 100}; download it again`,
    );
    // A file cut inside its header, and one that is not a table at all.
    const cut = new MemoryModelFiles({ [path]: bytes.subarray(0, 100) });
    await expect(PerLayerTableReader.open(cut, path)).rejects.toMatchObject({ problem: 'short', expectedBytes: 4088 + 8, actualBytes: 100 });
    const other = new MemoryModelFiles({ [path]: new Uint8Array(5000).fill(7) });
    await expect(PerLayerTableReader.open(other, path)).rejects.toThrow(/is not a per-layer embedding table/);
  });

  it('reads each distinct row once and keeps the most recently used rows', async () => {
    const inner = new MemoryModelFiles({ 'table.safetensors': await tableBytes() });
    const ranges: string[] = [];
    const files: ModelFiles = {
      location: inner.location,
      exists: (path) => inner.exists(path),
      size: (path) => inner.size(path),
      readJson: (path) => inner.readJson(path),
      readText: (path) => inner.readText(path),
      readBytes: (path, range) => {
        if (range !== undefined && range.offset >= 4096) ranges.push(`${(range.offset - 4096) / 84}+${range.length / 84}`);
        return inner.readBytes(path, range);
      },
    };
    const reader = await PerLayerTableReader.open(files, 'table.safetensors', { cacheRows: 3 });
    const first = await reader.read([5, 6, 5, 400, 9]);
    expect(ranges).toEqual(['0+1', '5+2', '9+1']); // 400 → row 0; 5 and 6 in one read
    expect(first.subarray(0, ROW_WIDTH)).toEqual(first.subarray(2 * ROW_WIDTH, 3 * ROW_WIDTH));
    // Cache now holds the last 3 of first use (5, 6, 0, 9): 6, 0, 9.
    ranges.length = 0;
    const again = await reader.read([9, 6, 0]);
    expect(ranges).toEqual([]);
    expect(again.subarray(0, ROW_WIDTH)).toEqual(first.subarray(4 * ROW_WIDTH));
    await reader.read([5]);
    expect(ranges).toEqual(['5+1']);
    expect(reader.stats).toMatchObject({ rowsRead: 5, cacheHits: 3 });
  });
});
