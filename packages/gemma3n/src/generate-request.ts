import { InputError } from '@gemma3n/core';
import type { ConversationMessage, GenerationOptions } from '@gemma3n/decoder';
import { checkMediaPart, type ContentPart, type Gemma3nWarning, isMediaPart, type TextPart } from './media-inputs';
import { checkMediaRoles } from './media-pipeline';
import type { PromptTokenizer } from './prompt-tokenizer';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'model';
  /** Text, or parts: `{ type: 'text', text }`, `{ type: 'image', image }`, `{ type: 'audio', audio }`. */
  content: string | readonly ContentPart[];
}

/** Options of the umbrella on top of the decoder's generation options. */
export interface Gemma3nGenerationOptions extends GenerationOptions {
  /**
   * Called for each warning as it arises (e.g. audio over 30 s, truncated); the same warnings
   * are also listed in `result.warnings`.
   */
  onWarning?: (warning: Gemma3nWarning) => void;
}

/**
 * One of `messages` (chat template applied), `prompt` (raw text, BOS added, no template) or
 * `promptIds` (exact ids, nothing added: the CLI's `--prompt-ids`), plus generation options.
 */
export interface GenerateRequest extends Gemma3nGenerationOptions {
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
      const partField = `${field}[${index}].content[${partIndex}]`;
      if (isMediaPart(part)) {
        checkMediaPart(part, partField);
        return;
      }
      const type = (part as { type?: unknown } | null)?.type;
      if (type !== 'text' || typeof (part as TextPart).text !== 'string') {
        throw new InputError({
          field: partField,
          value: part,
          expected: '{ type: "text", text }, { type: "image", image } or { type: "audio", audio }',
        });
      }
    });
  });
  checkMediaRoles(messages as readonly ConversationMessage[]);
}

/** The prompt text of a conversation: chat template, then each media placeholder expanded to its soft tokens. */
export function renderConversation(tokenizer: PromptTokenizer, messages: readonly ConversationMessage[], addGenerationPrompt: boolean): string {
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt });
  return tokenizer.expandMediaPlaceholders?.(text) ?? text;
}

/** The prompt ids of a request, and the generation options without the prompt fields. */
export function promptOf(
  request: GenerateRequest,
  tokenizer: PromptTokenizer,
): { promptIds: number[]; options: Gemma3nGenerationOptions; messages?: readonly ConversationMessage[] } {
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
    const conversation = messages as readonly ConversationMessage[];
    const text = renderConversation(tokenizer, conversation, true);
    // The template writes <bos> itself: adding special tokens again would double it.
    return { promptIds: tokenizer.encode(text, { addSpecialTokens: false }), options, messages: conversation };
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
