import { statSync } from 'node:fs';
import { Gemma3n } from '@gemma3n/gemma3n/node';
import type { GenerationOptions } from '@gemma3n/gemma3n';
import type { GenerationFlags } from './generation-flags';

export type LoadedModel = Awaited<ReturnType<typeof Gemma3n.load>>;

/** Loads the model folder named by `--model` with the `--threads` / `--dtype` settings. */
export async function loadModel(flags: GenerationFlags): Promise<LoadedModel> {
  if (!/^https?:\/\//i.test(flags.model) && !statSync(flags.model, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(
      `model folder ${flags.model} does not exist; make a demo one with \`gemma3n make-tiny ${flags.model}\` ` +
        'or convert a checkpoint with `gemma3n convert`',
    );
  }
  const started = performance.now();
  const model = await Gemma3n.load(flags.model, {
    dtype: flags.dtype as never,
    node: flags.threads === undefined ? {} : { intraOpNumThreads: flags.threads },
  });
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`loaded ${flags.model} in ${seconds.toFixed(2)} s\n`);
  return model;
}

/** Generation options from the flags; unset flags fall back to generation_config.json. */
export function generationOptions(flags: GenerationFlags, signal?: AbortSignal): GenerationOptions {
  const options: GenerationOptions = {};
  if (flags.maxNewTokens !== undefined) options.maxNewTokens = flags.maxNewTokens;
  if (flags.temperature !== undefined) options.temperature = flags.temperature;
  if (flags.topK !== undefined) options.topK = flags.topK;
  if (flags.topP !== undefined) options.topP = flags.topP;
  if (flags.minP !== undefined) options.minP = flags.minP;
  if (flags.repetitionPenalty !== undefined) options.repetitionPenalty = flags.repetitionPenalty;
  if (flags.seed !== undefined) options.seed = flags.seed;
  if (flags.greedy) options.doSample = false;
  if (flags.stop !== undefined) options.stopStrings = flags.stop;
  if (signal !== undefined) options.signal = signal;
  return options;
}

export function describeStats(result: {
  promptTokens: number;
  tokenIds: number[];
  finishReason: string;
  stats: { ttftMs: number; prefillTokensPerSecond: number; decodeTokensPerSecond: number; visionEncoderMs?: number; audioEncoderMs?: number };
}): string {
  const { stats } = result;
  const encoders = [
    stats.visionEncoderMs === undefined ? '' : `, vision encoder ${stats.visionEncoderMs.toFixed(0)} ms`,
    stats.audioEncoderMs === undefined ? '' : `, audio encoder ${stats.audioEncoderMs.toFixed(0)} ms`,
  ].join('');
  return (
    `${result.promptTokens} prompt tokens, ${result.tokenIds.length} new tokens (${result.finishReason}); ` +
    `first token ${stats.ttftMs.toFixed(0)} ms${encoders}, prefill ${stats.prefillTokensPerSecond.toFixed(1)} tok/s, ` +
    `decode ${stats.decodeTokensPerSecond.toFixed(1)} tok/s`
  );
}
