import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Gemma3nConfig, ModelFileError } from '@gemma3n/core';
import { pathExists } from './convert-output-folder';

export interface TokenizerFolderFiles {
  /** tokenizer.json as read (copied byte for byte). */
  tokenizerJsonText: string;
  /** tokenizer_config.json with the multimodal token keys transformers.js needs filled in. */
  tokenizerConfig: Record<string, unknown>;
  /** chat_template.jinja, else chat_template.json's template, else tokenizer_config's `chat_template`. */
  chatTemplate: string | undefined;
}

/**
 * The keys of tokenizer_config.json that transformers.js' Gemma3nProcessor reads to expand
 * image and audio placeholders, with the config field giving each token's id.
 */
const MULTIMODAL_TOKEN_KEYS = [
  ['image_token', 'imageTokenId'],
  ['boi_token', 'boiTokenId'],
  ['eoi_token', 'eoiTokenId'],
  ['audio_token', 'audioTokenId'],
  ['boa_token', 'boaTokenId'],
  ['eoa_token', 'eoaTokenId'],
] as const;

/**
 * Reads and checks the tokenizer files of a checkpoint folder. tokenizer.json and
 * tokenizer_config.json are required (a folder without them cannot tokenise a prompt); a
 * tokenizer_config.json lacking `image_token`, `boa_token`, … gets them from the tokens at the
 * ids config.json names, because Gemma3nProcessor fails to load without them.
 */
export async function readTokenizerFiles(folder: string, config: Gemma3nConfig): Promise<TokenizerFolderFiles> {
  const tokenizerJsonText = await readRequiredText(folder, 'tokenizer.json');
  const tokenizerJson = parseJsonObject(tokenizerJsonText, folder, 'tokenizer.json');
  const tokenizerConfig = parseJsonObject(await readRequiredText(folder, 'tokenizer_config.json'), folder, 'tokenizer_config.json');

  const missingKeys = MULTIMODAL_TOKEN_KEYS.filter(([key]) => typeof tokenizerConfig[key] !== 'string');
  if (missingKeys.length > 0) {
    const contentOf = tokenContents(tokenizerJson, missingKeys.map(([, field]) => config[field]));
    for (const [key, field] of missingKeys) {
      const content = contentOf.get(config[field]);
      if (content === undefined) {
        throw new ModelFileError({
          path: 'tokenizer_config.json',
          location: folder,
          problem: 'unreadable',
          message:
            `tokenizer_config.json in ${folder} has no "${key}", and tokenizer.json has no token at id ` +
            `${config[field]} (config.json ${field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}) to take it from`,
        });
      }
      tokenizerConfig[key] = content;
    }
  }

  // Where Hugging Face repositories keep the template, newest convention first.
  let chatTemplate: string | undefined;
  if (await pathExists(join(folder, 'chat_template.jinja'))) {
    chatTemplate = await readFile(join(folder, 'chat_template.jinja'), 'utf8');
  } else if (await pathExists(join(folder, 'chat_template.json'))) {
    const json = parseJsonObject(await readRequiredText(folder, 'chat_template.json'), folder, 'chat_template.json');
    if (typeof json.chat_template === 'string') chatTemplate = json.chat_template;
  }
  if (chatTemplate === undefined && typeof tokenizerConfig.chat_template === 'string') {
    chatTemplate = tokenizerConfig.chat_template;
  }
  return { tokenizerJsonText, tokenizerConfig, chatTemplate };
}

/** Content of the tokens with the given ids, from added_tokens first, then the model vocab. */
function tokenContents(tokenizerJson: Record<string, unknown>, ids: number[]): Map<number, string> {
  const wanted = new Set(ids);
  const found = new Map<number, string>();
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  for (const token of added as { id?: unknown; content?: unknown }[]) {
    if (typeof token.id === 'number' && typeof token.content === 'string' && wanted.has(token.id)) {
      found.set(token.id, token.content);
    }
  }
  const vocab = (tokenizerJson.model as { vocab?: unknown } | undefined)?.vocab;
  if (vocab !== null && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const [content, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (typeof id === 'number' && wanted.has(id) && !found.has(id)) found.set(id, content);
    }
  }
  return found;
}

async function readRequiredText(folder: string, name: string): Promise<string> {
  try {
    return await readFile(join(folder, name), 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ModelFileError({
      path: name,
      location: folder,
      problem: missing ? 'missing' : 'unreadable',
      cause,
      message: missing
        ? `Model file "${name}" does not exist in ${folder}; the converted folder needs the checkpoint's tokenizer files (tokenizer.json and tokenizer_config.json)`
        : undefined,
    });
  }
}

function parseJsonObject(text: string, folder: string, name: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelFileError({ path: name, location: folder, problem: 'invalid-json', cause });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelFileError({ path: name, location: folder, problem: 'invalid-json', message: `Model file "${name}" in ${folder} is not a JSON object` });
  }
  return json as Record<string, unknown>;
}
