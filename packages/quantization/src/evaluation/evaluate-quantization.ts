import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, ModelFileError } from '@gemma3n/core';
import { FOLDER_DTYPE_SUFFIXES } from '../quantization-dtypes';
import { compareNextToken } from './next-token-metrics';

/**
 * The part of the onnxruntime API the evaluation uses; pass `onnxruntime-node` itself. Injected
 * so this package does not pick an engine for its callers.
 */
export interface OrtRuntime {
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
}
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface EvaluateQuantizationOptions {
  ort: OrtRuntime;
  /** The fp32 folder (`onnx/embed_tokens.onnx`, `onnx/decoder_model_merged.onnx`). */
  referenceDir: string;
  /** The quantized folder; may be the same folder when it holds both (onnx-community layout). */
  quantizedDir: string;
  /** Dtype of the quantized files (one, or per session); default: its config's `transformers.js_config.dtype`. */
  dtype?: string | Record<string, string>;
  /** Dtype of the reference files (default fp32; another dtype compares two quantized variants). */
  referenceDtype?: string | Record<string, string>;
  /** Token id sequences; every position of each is scored (teacher forcing). */
  prompts: readonly (readonly number[])[];
  sessionOptions?: Record<string, unknown>;
}

export interface QuantizationEvaluation {
  positions: number;
  /** Fraction of positions whose most likely next token is the same as fp32's. */
  topOneAgreement: number;
  /** Mean over positions of KL(p_fp32 ‖ p_quantized), nats. */
  meanKl: number;
  maxKl: number;
  files: { reference: string[]; quantized: string[] };
}

const SESSIONS = ['embed_tokens', 'decoder_model_merged'] as const;

/** The two text sessions of one folder, scoring whole prompts. */
export interface TextSessions {
  files: string[];
  /** Logits [S, V] for every position of `prompt` (empty KV cache, `num_logits_to_keep` 0). */
  logits(prompt: readonly number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** `onnx/<session><suffix>.onnx` for one dtype, or a per-session map of them. */
export function textSessionFile(session: string, dtype: string | Record<string, string>): string {
  const chosen = typeof dtype === 'string' ? dtype : (dtype[session] ?? 'fp32');
  const suffix = FOLDER_DTYPE_SUFFIXES[chosen];
  if (suffix === undefined) throw new InputError({ field: 'dtype', value: chosen, expected: `one of ${Object.keys(FOLDER_DTYPE_SUFFIXES).join(', ')}` });
  return `onnx/${session}${suffix}.onnx`;
}

/**
 * Opens `embed_tokens` and `decoder_model_merged` of `dir` in the given dtype (default: the
 * folder config's `transformers.js_config.dtype`, else fp32).
 */
export async function openTextSessions(
  ort: OrtRuntime,
  dir: string,
  dtype?: string | Record<string, string>,
  sessionOptions?: Record<string, unknown>,
): Promise<TextSessions> {
  const config = await readConfig(dir);
  const chosen = dtype ?? (config['transformers.js_config'] as { dtype?: string | Record<string, string> } | undefined)?.dtype ?? 'fp32';
  const files = SESSIONS.map((session) => textSessionFile(session, chosen));
  const text = (config.text_config ?? {}) as Record<string, unknown>;
  const keyValueHeads = Number(text.num_key_value_heads);
  const headDim = Number(text.head_dim);
  if (!(keyValueHeads > 0 && headDim > 0)) {
    throw new ModelFileError({ path: 'config.json', location: dir, problem: 'unreadable', message: `config.json of ${dir}: text_config lacks num_key_value_heads / head_dim` });
  }
  const open = async (file: string) => {
    try {
      return await ort.InferenceSession.create(join(dir, file), sessionOptions);
    } catch (cause) {
      throw new ModelFileError({ path: file, location: dir, problem: 'unreadable', cause, message: `Cannot open ${file} in ${dir}: ${(cause as Error).message}` });
    }
  };
  const embed = await open(files[0]!);
  const decoder = await open(files[1]!).catch(async (error: unknown) => {
    await embed.release();
    throw error;
  });
  return {
    files,
    logits: (prompt) => runPrompt(ort, { embed, decoder }, prompt, keyValueHeads, headDim),
    release: async () => {
      await embed.release();
      await decoder.release();
    },
  };
}

/**
 * Runs each prompt through the reference and the quantized text sessions (embed_tokens, then
 * the decoder on the whole sequence with an empty KV cache) and compares the next-token
 * distribution at every position.
 */
export async function evaluateQuantization(options: EvaluateQuantizationOptions): Promise<QuantizationEvaluation> {
  if (options.prompts.length === 0 || options.prompts.some((prompt) => prompt.length === 0)) {
    throw new InputError({ field: 'prompts', value: options.prompts.length, expected: 'at least one non-empty token id sequence' });
  }
  const reference = await openTextSessions(options.ort, options.referenceDir, options.referenceDtype ?? 'fp32', options.sessionOptions);
  let quantized: TextSessions;
  try {
    quantized = await openTextSessions(options.ort, options.quantizedDir, options.dtype, options.sessionOptions);
  } catch (error) {
    await reference.release();
    throw error;
  }
  try {
    let positions = 0;
    let agreements = 0;
    let klSum = 0;
    let maxKl = 0;
    for (const prompt of options.prompts) {
      const referenceLogits = await reference.logits(prompt);
      const quantizedLogits = await quantized.logits(prompt);
      const vocabulary = referenceLogits.length / prompt.length;
      for (let position = 0; position < prompt.length; position++) {
        const row = (logits: Float32Array) => logits.subarray(position * vocabulary, (position + 1) * vocabulary);
        const comparison = compareNextToken(row(referenceLogits), row(quantizedLogits));
        positions++;
        if (comparison.topOneAgrees) agreements++;
        klSum += comparison.kl;
        maxKl = Math.max(maxKl, comparison.kl);
      }
    }
    return { positions, topOneAgreement: agreements / positions, meanKl: klSum / positions, maxKl, files: { reference: reference.files, quantized: quantized.files } };
  } finally {
    await reference.release();
    await quantized.release();
  }
}

/** Logits [S, V] for every position of `prompt`. */
async function runPrompt(ort: OrtRuntime, sessions: { embed: OrtSession; decoder: OrtSession }, prompt: readonly number[], keyValueHeads: number, headDim: number): Promise<Float32Array> {
  const length = prompt.length;
  const embedded = await sessions.embed.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(prompt, (id) => BigInt(id)), [1, length]) });
  const feeds: Record<string, OrtTensor> = {};
  for (const name of sessions.decoder.inputNames) {
    if (name === 'inputs_embeds' || name === 'per_layer_inputs') feeds[name] = embedded[name]!;
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]);
    else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length }, (_, index) => BigInt(index)), [1, length]);
    else if (name === 'num_logits_to_keep') feeds[name] = new ort.Tensor('int64', BigInt64Array.from([0n]), []);
    else if (name.startsWith('past_key_values.')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, keyValueHeads, 0, headDim]);
    else throw new InputError({ field: 'decoder input', value: name, expected: 'the decoder inputs of the model-folder contract' });
  }
  const outputs = await sessions.decoder.run(feeds);
  return outputs.logits!.data as Float32Array;
}

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelFileError({ path: 'config.json', location: dir, problem: 'missing', cause, message: `Cannot read config.json of ${dir}: ${(cause as Error).message}` });
  }
}
