import { InputError, UnsupportedError } from '@gemma3n/core';
import type { ConversationMessage, GenerationOptions } from '@gemma3n/decoder';
import type { PromptTokenizer } from './prompt-tokenizer';

/** A text part of a message; image and audio parts are not handled by this runtime yet. */
export interface TextPart {
  type: 'text';
  text: string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'model';
  content: string | readonly TextPart[];
}

/**
 * One of `messages` (chat template applied), `prompt` (raw text, BOS added, no template) or
 * `promptIds` (exact ids, nothing added: the CLI's `--prompt-ids`), plus generation options.
 */
export interface GenerateRequest extends GenerationOptions {
  messages?: readonly ChatMessage[];
  prompt?: string;
  promptIds?: readonly number[];
}

const roles = new Set(['system', 'user', 'assistant', 'model']);

export function checkMessages(messages: unknown, field = 'messages'): asserts messages is readonly ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InputError({ field, value: messages, expected: 'a non-empty array of { role, content } messages' });
  }
  messages.forEach((message: unknown, index) => {
    const entry = message as Partial<ChatMessage> | null;
    if (entry === null || typeof entry !== 'object' || !roles.has(entry.role as string)) {
      throw new InputError({ field: `${field}[${index}].role`, value: entry?.role, expected: 'system, user, assistant or model' });
    }
    if (typeof entry.content === 'string') return;
    if (!Array.isArray(entry.content)) {
      throw new InputError({ field: `${field}[${index}].content`, value: entry.content, expected: 'a string or an array of parts' });
    }
    entry.content.forEach((part: unknown, partIndex) => {
      const type = (part as { type?: unknown } | null)?.type;
      if (type === 'image' || type === 'audio') {
        throw new UnsupportedError({ feature: `${field}[${index}].content[${partIndex}].type`, value: type, supported: ['text'] });
      }
      if (type !== 'text' || typeof (part as TextPart).text !== 'string') {
        throw new InputError({ field: `${field}[${index}].content[${partIndex}]`, value: part, expected: '{ type: "text", text: string }' });
      }
    });
  });
}

/** The prompt ids of a request, and the generation options without the prompt fields. */
export function promptOf(request: GenerateRequest, tokenizer: PromptTokenizer): { promptIds: number[]; options: GenerationOptions } {
  if (request === null || typeof request !== 'object') {
    throw new InputError({ field: 'request', value: request, expected: 'an object with messages, prompt or promptIds' });
  }
  const { messages, prompt, promptIds, ...options } = request;
  const given = [messages, prompt, promptIds].filter((value) => value !== undefined).length;
  if (given !== 1) {
    throw new InputError({
      field: 'request',
      value: Object.keys(request),
      expected: 'exactly one of messages, prompt or promptIds',
    });
  }
  if (messages !== undefined) {
    checkMessages(messages);
    const text = tokenizer.applyChatTemplate(messages as readonly ConversationMessage[], { addGenerationPrompt: true });
    // The template writes <bos> itself: adding special tokens again would double it.
    return { promptIds: tokenizer.encode(text, { addSpecialTokens: false }), options };
  }
  if (prompt !== undefined) {
    if (typeof prompt !== 'string' || prompt === '') throw new InputError({ field: 'prompt', value: prompt, expected: 'a non-empty string' });
    return { promptIds: tokenizer.encode(prompt, { addSpecialTokens: true }), options };
  }
  if (!Array.isArray(promptIds) || promptIds.length === 0 || promptIds.some((id) => !(Number.isSafeInteger(id) && id >= 0))) {
    throw new InputError({ field: 'promptIds', value: promptIds, expected: 'a non-empty array of token ids (integers ≥ 0)' });
  }
  return { promptIds: [...(promptIds as number[])], options };
}
