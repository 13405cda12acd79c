import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel } from '@gemma3n/convert';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrtRuntime } from '../evaluation/evaluate-quantization';
import { runEvalQuantCommand } from './eval-quant-command';
import { defaultQuantizedDir, runQuantizeCommand } from './quantize-command';

let root: string;
let fp32Dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-quant-commands-'));
  fp32Dir = join(root, 'tiny');
  await makeTinyModel(fp32Dir, { shape: 'tiny-window-4', seed: 1 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('command helpers', () => {
  it('quantize writes <DIR>-q4 with progress and a size summary', async () => {
    const lines: string[] = [];
    const result = await runQuantizeCommand({ dir: fp32Dir, dtype: 'q4', blockSize: 32 }, { log: (line) => lines.push(line) });
    expect(result.outputDir).toBe(defaultQuantizedDir(fp32Dir, 'q4'));
    expect(result.outputDir).toBe(join(root, 'tiny-q4'));
    expect(lines.some((line) => /^\[1\/\d+\] decoder_model_merged_q4\.onnx: /.test(line))).toBe(true);
    expect(lines.some((line) => /^onnx\/decoder_model_merged_q4\.onnx: 63 tensors quantized, .* MiB → .* MiB \(\d+\.\d %\)$/.test(line))).toBe(true);
    expect(await readdir(join(root, 'tiny-q4', 'onnx'))).toContain('embed_tokens_q4.onnx');
  });

  it('eval-quant quantizes to a temporary folder, prints the figures (the test thresholds run on the same prompts), and cleans up', async () => {
    const lines: string[] = [];
    const before = await readdir(tmpdir());
    const result = await runEvalQuantCommand({ dir: fp32Dir, dtype: 'q4' }, { ort: ort as unknown as OrtRuntime, output: { log: (line) => lines.push(line) } });
    expect(result.positions).toBe(128);
    expect(result.topOneAgreement).toBeCloseTo(0.28125, 6);
    expect(result.meanKl).toBeCloseTo(3.466, 2);
    expect(lines.at(-1)).toMatch(/^top-1 agreement 0\.2813 \(36\/128 positions\), mean KL 3\.46\d\d nats, max KL /);
    const leftover = (await readdir(tmpdir())).filter((name) => name.startsWith('gemma3n-eval-quant-') && !before.includes(name));
    expect(leftover).toEqual([]);
  });
});
