import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, ModelFileError, UnsupportedError } from '@gemma3n/core';
import { makeTinyModel } from '@gemma3n/convert';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { valueInfo } from '../onnx/onnx-nodes';
import { onnx } from '../onnx/onnx-proto';
import { quantizeModelFolder } from './quantize-folder';

let root: string;
let fp32Dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-quantize-folder-'));
  fp32Dir = join(root, 'fp32');
  await makeTinyModel(fp32Dir, { shape: 'tiny-window-4', seed: 3 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
      const info = await stat(path);
      result[path.slice(dir.length)] = info.size * 1e6 + info.mtimeMs;
    }
  }
  return result;
}

describe('quantizeModelFolder', () => {
  it('writes q4 sessions with MatMulNBits / GatherBlockQuantized, copies the rest, updates config, leaves the input alone', async () => {
    const before = await snapshot(fp32Dir);
    const events: string[] = [];
    const outputDir = join(root, 'q4');
    const result = await quantizeModelFolder(fp32Dir, outputDir, { dtype: 'q4', onProgress: (event) => events.push(event.stage) });
    expect(await snapshot(fp32Dir)).toEqual(before);
    const files = (await readdir(join(outputDir, 'onnx'))).sort();
    expect(files).toEqual(['decoder_model_merged_q4.onnx', 'decoder_model_merged_q4.onnx_data', 'embed_tokens_q4.onnx', 'embed_tokens_q4.onnx_data']);
    const config = JSON.parse(await readFile(join(outputDir, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].dtype).toBe('q4');
    expect(config['transformers.js_config'].use_external_data_format).toEqual({ 'decoder_model_merged_q4.onnx': 1, 'embed_tokens_q4.onnx': 1 });
    expect(await readdir(outputDir)).toContain('tokenizer.json');
    expect(events).toContain('quantize');
    expect(events.at(-1)).toBe('finish');

    const decoder = onnx.ModelProto.decode(await readFile(join(outputDir, 'onnx/decoder_model_merged_q4.onnx')));
    // MatMuls left: activation × activation (attention) or weights with a side below 16 (Laurel rank 4).
    const initializerDims = new Map(decoder.graph!.initializer!.map((tensor) => [tensor.name, (tensor.dims ?? []).map(Number)]));
    const leftWeights = decoder.graph!.node!.filter((node) => node.opType === 'MatMul' && initializerDims.has(node.input![1]!)).map((node) => initializerDims.get(node.input![1]!)!);
    expect(leftWeights.length).toBeGreaterThan(0);
    for (const dims of leftWeights) expect(Math.min(...dims)).toBeLessThan(16);
    expect(decoder.graph!.node!.filter((node) => node.opType === 'MatMulNBits').length).toBe(result.sessions.find((session) => session.session === 'decoder_model_merged')!.tensors.length);
    const lmHead = decoder.graph!.node!.find((node) => node.name === '/lm_head/lm_head/MatMul_Q4')!;
    expect(lmHead.opType).toBe('MatMulNBits');
    const embed = onnx.ModelProto.decode(await readFile(join(outputDir, 'onnx/embed_tokens_q4.onnx')));
    expect(embed.graph!.node!.filter((node) => node.opType === 'GatherBlockQuantized').length).toBeGreaterThanOrEqual(2);
    const decoderSession = result.sessions.find((session) => session.session === 'decoder_model_merged')!;
    // Tiny graphs are dominated by unquantized vectors and small weights; the MatMul weights
    // themselves shrink 8× minus scales and zero points (checked per tensor in quantize-model-file.test.ts).
    expect(decoderSession.outputBytes).toBeLessThan(decoderSession.inputBytes * 0.7);

    // Both sessions load and run in onnxruntime-node.
    const session = await ort.InferenceSession.create(join(outputDir, 'onnx/embed_tokens_q4.onnx'));
    const out = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from([2n, 7n, 9n]), [1, 3]) });
    expect(out.inputs_embeds!.dims).toEqual([1, 3, 32]);
    await session.release();
  });

  it('writes q8 with DynamicQuantizeMatMul and int8 tables', async () => {
    const outputDir = join(root, 'q8');
    await quantizeModelFolder(fp32Dir, outputDir, { dtype: 'q8' });
    const files = (await readdir(join(outputDir, 'onnx'))).sort();
    expect(files).toEqual(['decoder_model_merged_quantized.onnx', 'decoder_model_merged_quantized.onnx_data', 'embed_tokens_quantized.onnx', 'embed_tokens_quantized.onnx_data']);
    const decoder = onnx.ModelProto.decode(await readFile(join(outputDir, 'onnx/decoder_model_merged_quantized.onnx')));
    expect(decoder.graph!.node!.some((node) => node.opType === 'DynamicQuantizeMatMul')).toBe(true);
    const config = JSON.parse(await readFile(join(outputDir, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].dtype).toBe('q8');
  });

  it('quantizes only the named sessions and records per-session dtypes', async () => {
    const outputDir = join(root, 'decoder-only');
    await quantizeModelFolder(fp32Dir, outputDir, { dtype: 'q4', files: ['decoder_model_merged'] });
    expect((await readdir(join(outputDir, 'onnx'))).sort()).toEqual(['decoder_model_merged_q4.onnx', 'decoder_model_merged_q4.onnx_data', 'embed_tokens.onnx', 'embed_tokens.onnx_data']);
    const config = JSON.parse(await readFile(join(outputDir, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].dtype).toEqual({ decoder_model_merged: 'q4', embed_tokens: 'fp32' });
  });

  it('by default copies a session with nothing to quantize; named, it is an error; overwrite replaces the output', async () => {
    const withExtra = join(root, 'with-extra');
    await cp(fp32Dir, withExtra, { recursive: true });
    const graph = { name: 'extra', node: [{ opType: 'Identity', name: 'copy', input: ['x'], output: ['y'] }], input: [valueInfo('x', 1, [2])], output: [valueInfo('y', 1, [2])] };
    await writeFile(join(withExtra, 'onnx/extra.onnx'), onnx.ModelProto.encode({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph }).finish());
    const outputDir = join(root, 'with-extra-q4');
    const result = await quantizeModelFolder(withExtra, outputDir, { dtype: 'q4' });
    expect(result.sessions.map((session) => session.session)).toEqual(['decoder_model_merged', 'embed_tokens']);
    expect(result.copied).toContain('onnx/extra.onnx');
    const config = JSON.parse(await readFile(join(outputDir, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].dtype).toEqual({ decoder_model_merged: 'q4', embed_tokens: 'q4', extra: 'fp32' });
    await expect(quantizeModelFolder(withExtra, join(root, 'x'), { dtype: 'q4', files: ['extra'] })).rejects.toThrow('has nothing to quantize');
    const second = await quantizeModelFolder(withExtra, outputDir, { dtype: 'q8', files: ['decoder_model_merged'], overwrite: true });
    expect(second.sessions).toHaveLength(1);
    expect((await readdir(join(outputDir, 'onnx'))).sort()).toEqual([
      'decoder_model_merged_quantized.onnx',
      'decoder_model_merged_quantized.onnx_data',
      'embed_tokens.onnx',
      'embed_tokens.onnx_data',
      'extra.onnx',
    ]);
  });

  it('refuses bad input with clear errors', async () => {
    await expect(quantizeModelFolder(fp32Dir, join(root, 'x'), { dtype: 'q3' })).rejects.toSatisfy(
      (error: unknown) => UnsupportedError.isInstance(error) && /quantization dtype "q3".*supported: q4, q8, fp16, q4f16/.test((error as Error).message),
    );
    await expect(quantizeModelFolder(fp32Dir, join(root, 'x'), { dtype: 'bnb4' })).rejects.toThrow('valid model-folder dtype but this package does not write it yet');
    await expect(quantizeModelFolder(fp32Dir, fp32Dir, { dtype: 'q4' })).rejects.toSatisfy((error: unknown) => InputError.isInstance(error) && /outside the input folder/.test((error as Error).message));
    await expect(quantizeModelFolder(fp32Dir, join(root, 'q4'), { dtype: 'q4' })).rejects.toThrow('does not exist yet');
    await expect(quantizeModelFolder(join(root, 'nowhere'), join(root, 'x'), { dtype: 'q4' })).rejects.toSatisfy((error: unknown) => ModelFileError.isInstance(error));
    await expect(quantizeModelFolder(join(root, 'q4'), join(root, 'x'), { dtype: 'q4', files: ['onnx/decoder_model_merged_q4.onnx'] })).rejects.toThrow(
      'already a quantized or converted file',
    );
    await expect(quantizeModelFolder(fp32Dir, join(root, 'x'), { dtype: 'q4', availableBytes: 1000 })).rejects.toThrow(/Not enough disk space for .*: about .* needed, 1000 bytes free/);
    expect(await readdir(root)).toEqual(expect.not.arrayContaining(['x']));
    expect((await readdir(root)).filter((name) => name.includes('partial'))).toEqual([]);
  });
});
