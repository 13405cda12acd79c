import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateQuantization, textSessionFile, type OrtRuntime, type QuantizationEvaluation } from '../evaluation/evaluate-quantization';
import { seededPrompts } from '../evaluation/seeded-prompts';
import { quantizeModelFolder } from '../folder/quantize-folder';
import type { CommandOutput } from './quantize-command';

/** Parsed options of `gemma3n eval-quant DIR --dtype q4 [--quantized QDIR] [--prompts 8] [--length 16]`. */
export interface EvalQuantCommandOptions {
  /** The fp32 folder. */
  dir: string;
  dtype: string;
  /**
   * The quantized folder. Default: DIR itself when it already holds the `<session><suffix>.onnx`
   * files (the onnx-community layout), else a temporary folder quantized now and deleted after.
   */
  quantizedDir?: string;
  prompts?: number;
  length?: number;
  seed?: number;
  blockSize?: number;
  symmetric?: boolean;
  accuracyLevel?: number;
}

/** Runs `gemma3n eval-quant`: top-1 agreement and mean KL against fp32 on seeded prompts. */
export async function runEvalQuantCommand(options: EvalQuantCommandOptions, runtime: { ort: OrtRuntime; output: CommandOutput }): Promise<QuantizationEvaluation> {
  let quantizedDir = options.quantizedDir;
  let temporary: string | undefined;
  if (quantizedDir === undefined) {
    const inPlace = await hasFiles(options.dir, ['embed_tokens', 'decoder_model_merged'].map((session) => textSessionFile(session, options.dtype)));
    if (inPlace) quantizedDir = options.dir;
    else {
      temporary = await mkdtemp(join(tmpdir(), 'gemma3n-eval-quant-'));
      quantizedDir = join(temporary, options.dtype);
      runtime.output.log(`quantizing ${options.dir} to ${quantizedDir} (deleted afterwards)`);
      await quantizeModelFolder(options.dir, quantizedDir, {
        dtype: options.dtype,
        files: ['embed_tokens', 'decoder_model_merged'],
        blockSize: options.blockSize,
        symmetric: options.symmetric,
        accuracyLevel: options.accuracyLevel,
      });
    }
  }
  try {
    const config = JSON.parse(await readFile(join(options.dir, 'config.json'), 'utf8')) as { text_config?: Record<string, unknown> };
    const vocabulary = Number(config.text_config?.vocab_size_per_layer_input ?? config.text_config?.vocab_size ?? 262_144);
    const prompts = seededPrompts({ count: options.prompts ?? 8, length: options.length ?? 16, vocabulary, seed: options.seed ?? 7 });
    const result = await evaluateQuantization({ ort: runtime.ort, referenceDir: options.dir, quantizedDir, dtype: options.dtype, prompts });
    runtime.output.log(`${result.files.quantized.join(', ')} vs ${result.files.reference.join(', ')}`);
    runtime.output.log(
      `top-1 agreement ${result.topOneAgreement.toFixed(4)} (${Math.round(result.topOneAgreement * result.positions)}/${result.positions} positions), mean KL ${result.meanKl.toFixed(4)} nats, max KL ${result.maxKl.toFixed(3)}`,
    );
    return result;
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

async function hasFiles(dir: string, files: string[]): Promise<boolean> {
  for (const file of files) {
    try {
      await stat(join(dir, file));
    } catch {
      return false;
    }
  }
  return true;
}
