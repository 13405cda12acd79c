import type { ModelFiles } from '@gemma3n/core';
import { GemmaTokenizer } from '@gemma3n/tokenizer';
import type { PromptTokenizer } from './prompt-tokenizer';

/** Loads the folder's tokenizer (tokenizer.json, tokenizer_config.json, chat template). */
export async function loadPromptTokenizer(files: ModelFiles): Promise<PromptTokenizer> {
  const tokenizer = await GemmaTokenizer.load(files);
  return {
    encode: (text, options) => tokenizer.encode(text, options),
    decode: (tokenIds, options) => tokenizer.decode(tokenIds, options),
    createStreamingDetokenizer: (options) => tokenizer.createStreamingDetokenizer(options),
    expandMediaPlaceholders: (text) => tokenizer.expandMediaPlaceholders(text),
    mediaSequenceLengths: tokenizer.mediaSequenceLengths,
    applyChatTemplate: (messages, options) =>
      tokenizer.applyChatTemplate(messages as Parameters<GemmaTokenizer['applyChatTemplate']>[0], options),
  };
}
