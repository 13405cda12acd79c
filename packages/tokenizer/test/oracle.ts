import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { env, AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { GemmaTokenizer, type GemmaTokenizerExtras } from '../src/gemma-tokenizer';
import { ensureGemma3nFixtureFolder } from './gemma3n-fixture-folder';

/**
 * Test and bench helper (Node only): the Gemma 3n fixture loaded by this package and by
 * transformers.js (the oracle), offline, from the same folder.
 */
export async function loadOracleTokenizer(folder = ensureGemma3nFixtureFolder()): Promise<PreTrainedTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  return AutoTokenizer.from_pretrained(folder, { local_files_only: true });
}

export function loadOurTokenizer(folder = ensureGemma3nFixtureFolder()): GemmaTokenizer {
  const read = (name: string) => readFileSync(join(folder, name), 'utf8');
  const extras: GemmaTokenizerExtras = {};
  if (existsSync(join(folder, 'chat_template.jinja'))) extras.chatTemplate = read('chat_template.jinja');
  if (existsSync(join(folder, 'processor_config.json'))) extras.processorConfig = JSON.parse(read('processor_config.json'));
  return GemmaTokenizer.fromJSON(read('tokenizer.json'), read('tokenizer_config.json'), extras);
}
