import { InputError } from '@gemma3n/core';
import { randomSeed } from './seeded-random';

/**
 * How the next token is chosen. Every field is optional; unset fields take the model's
 * `generation_config.json` values (as Hugging Face does), and without one, greedy decoding.
 */
export interface SamplingOptions {
  /** `false` forces greedy decoding (argmax) whatever the other fields say. */
  doSample?: boolean;
  /** Divides the logits; `0` means greedy. Must be ≥ 0. */
  temperature?: number;
  /** Keep only the `topK` most likely tokens; `0` turns the filter off. */
  topK?: number;
  /** Nucleus sampling: keep the most likely tokens whose probabilities sum to `topP`, in (0, 1]. */
  topP?: number;
  /** Drop tokens less likely than `minP` × the most likely one, in [0, 1]; `0` turns it off. */
  minP?: number;
  /** > 1 discourages tokens already in the sequence (prompt included, as in HF); `1` is off. */
  repetitionPenalty?: number;
  /** Makes sampling reproducible: the same seed and inputs give the same tokens. */
  seed?: number;
}

/** Sampling options with every value decided. */
export interface ResolvedSamplingOptions {
  greedy: boolean;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  seed: number;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value);
}

/** Throws an InputError naming the first invalid option and its value. */
export function validateSamplingOptions(options: SamplingOptions): void {
  const { doSample, temperature, topK, topP, minP, repetitionPenalty, seed } = options;
  if (doSample !== undefined && typeof doSample !== 'boolean') {
    throw new InputError({ field: 'doSample', value: doSample, expected: 'a boolean' });
  }
  if (temperature !== undefined && !(isNumber(temperature) && Number.isFinite(temperature) && temperature >= 0)) {
    throw new InputError({ field: 'temperature', value: temperature, expected: 'a finite number ≥ 0 (0 means greedy)' });
  }
  if (topK !== undefined && !(isNumber(topK) && Number.isInteger(topK) && topK >= 0)) {
    throw new InputError({ field: 'topK', value: topK, expected: 'an integer ≥ 0 (0 turns top-k off)' });
  }
  if (topP !== undefined && !(isNumber(topP) && topP > 0 && topP <= 1)) {
    throw new InputError({ field: 'topP', value: topP, expected: 'a number in (0, 1]' });
  }
  if (minP !== undefined && !(isNumber(minP) && minP >= 0 && minP <= 1)) {
    throw new InputError({ field: 'minP', value: minP, expected: 'a number in [0, 1]' });
  }
  if (
    repetitionPenalty !== undefined &&
    !(isNumber(repetitionPenalty) && Number.isFinite(repetitionPenalty) && repetitionPenalty > 0)
  ) {
    throw new InputError({ field: 'repetitionPenalty', value: repetitionPenalty, expected: 'a finite number > 0' });
  }
  if (seed !== undefined && !(isNumber(seed) && Number.isSafeInteger(seed))) {
    throw new InputError({ field: 'seed', value: seed, expected: 'a safe integer' });
  }
}

/**
 * Merges caller options over defaults (typically from generation_config.json) and decides
 * greedy vs sampling. Both layers are validated, so a bad generation_config is reported too.
 */
export function resolveSamplingOptions(
  options: SamplingOptions,
  defaults: SamplingOptions = {},
): ResolvedSamplingOptions {
  validateSamplingOptions(defaults);
  validateSamplingOptions(options);
  const merged = { ...defaults, ...stripUndefined(options) };
  const temperature = merged.temperature ?? 1;
  // Explicit sampling parameters imply sampling even when the defaults say greedy, the way
  // a user who passes `temperature: 0.7` expects; `doSample: false` still wins.
  const impliesSampling =
    options.temperature !== undefined || options.topK !== undefined || options.topP !== undefined ||
    options.minP !== undefined || options.seed !== undefined;
  const doSample = options.doSample ?? (impliesSampling ? true : (defaults.doSample ?? false));
  return {
    greedy: !doSample || temperature === 0,
    temperature,
    topK: merged.topK ?? 0,
    topP: merged.topP ?? 1,
    minP: merged.minP ?? 0,
    repetitionPenalty: merged.repetitionPenalty ?? 1,
    seed: merged.seed ?? randomSeed(),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * Reads the sampling fields of a Hugging Face `generation_config.json` object (snake_case).
 * Unknown or null fields are ignored; values are validated when resolved.
 */
export function samplingDefaultsFromGenerationConfig(json: Record<string, unknown>): SamplingOptions {
  const defaults: SamplingOptions = {};
  const pick = (key: string): unknown => (json[key] === null ? undefined : json[key]);
  const doSample = pick('do_sample');
  if (doSample !== undefined) defaults.doSample = doSample as boolean;
  const temperature = pick('temperature');
  if (temperature !== undefined) defaults.temperature = temperature as number;
  const topK = pick('top_k');
  if (topK !== undefined) defaults.topK = topK as number;
  const topP = pick('top_p');
  if (topP !== undefined) defaults.topP = topP as number;
  const minP = pick('min_p');
  if (minP !== undefined) defaults.minP = minP as number;
  const repetitionPenalty = pick('repetition_penalty');
  if (repetitionPenalty !== undefined) defaults.repetitionPenalty = repetitionPenalty as number;
  return defaults;
}
