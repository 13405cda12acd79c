import type { Gemma3nConfig, ModelFiles } from '@gemma3n/core';
import { type GenerationDefaults, samplingDefaultsFromGenerationConfig } from '@gemma3n/decoder';

/**
 * Defaults from `generation_config.json` (optional in a folder): sampling fields, and eos ids
 * as stop tokens ([1, 106] for the instruction-tuned models). Without the file, the eos ids of
 * config.json stop generation and decoding is greedy.
 */
export async function readGenerationDefaults(files: ModelFiles, config: Gemma3nConfig): Promise<GenerationDefaults> {
  if (!(await files.exists('generation_config.json'))) return { stopTokenIds: config.text.eosTokenId, sampling: {} };
  const json = (await files.readJson('generation_config.json')) as Record<string, unknown>;
  const eos = json.eos_token_id;
  const stopTokenIds =
    typeof eos === 'number' ? [eos] : Array.isArray(eos) && eos.every((id) => Number.isInteger(id)) ? (eos as number[]) : config.text.eosTokenId;
  return { stopTokenIds, sampling: samplingDefaultsFromGenerationConfig(json) };
}
