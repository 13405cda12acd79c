import { InputError } from '@gemma3n/core';
import { Template } from '@huggingface/jinja';

export type ChatRole = 'system' | 'user' | 'assistant' | 'model';

export type ChatContentItem =
  | { type: 'text'; text: string }
  /** The image itself travels separately (to the vision encoder); only its place matters here. */
  | { type: 'image'; [key: string]: unknown }
  | { type: 'audio'; [key: string]: unknown };

export interface ChatMessage {
  role: ChatRole;
  content: string | readonly ChatContentItem[];
}

export interface ApplyChatTemplateOptions {
  /** End with `<start_of_turn>model\n` so the model answers next. Default false, as in transformers. */
  addGenerationPrompt?: boolean;
}

const roles: readonly ChatRole[] = ['system', 'user', 'assistant', 'model'];
const itemTypes = ['text', 'image', 'audio'];
const compiledTemplates = new Map<string, Template>();

/**
 * Checks the conversation, then renders `template` with @huggingface/jinja and the variables
 * transformers.js passes (`messages`, `add_generation_prompt` and the special-token strings).
 * Gemma's rules are checked here, before rendering, so a mistake is an InputError naming the
 * message instead of the template's generic exception: an optional system message first, then
 * user and assistant/model turns alternating, starting with user.
 */
export function applyChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  options: ApplyChatTemplateOptions,
  specialTokens: Record<string, string>,
): string {
  checkConversation(messages);
  let compiled = compiledTemplates.get(template);
  if (compiled === undefined) {
    compiled = new Template(template);
    compiledTemplates.set(template, compiled);
  }
  try {
    return compiled.render({
      messages: messages as unknown as Record<string, unknown>[],
      add_generation_prompt: options.addGenerationPrompt ?? false,
      ...specialTokens,
    });
  } catch (error) {
    throw new InputError({
      field: 'messages',
      value: messages,
      expected: 'a conversation the chat template accepts',
      message: `The chat template rejected the conversation: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
}

function checkConversation(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InputError({ field: 'messages', value: messages, expected: 'a non-empty array of chat messages' });
  }
  let turn = 0;
  messages.forEach((message, index) => {
    const field = `messages[${index}]`;
    if (message === null || typeof message !== 'object') {
      throw new InputError({ field, value: message, expected: 'an object with role and content' });
    }
    if (!roles.includes(message.role)) {
      throw new InputError({ field: `${field}.role`, value: message.role, expected: `one of ${roles.map((role) => `"${role}"`).join(', ')}` });
    }
    checkContent(message, field);
    if (message.role === 'system') {
      if (index !== 0) {
        throw new InputError({ field: `${field}.role`, value: message.role, expected: 'a system message only as the first message' });
      }
      return;
    }
    const expectsUser = turn % 2 === 0;
    if ((message.role === 'user') !== expectsUser) {
      throw new InputError({
        field: `${field}.role`,
        value: message.role,
        expected: `${expectsUser ? '"user"' : '"assistant" or "model"'}: after an optional system message, roles must alternate user, assistant, user, … starting with user`,
      });
    }
    turn++;
  });
}

function checkContent(message: ChatMessage, field: string): void {
  const content = message.content;
  if (typeof content === 'string') return;
  if (!Array.isArray(content)) {
    throw new InputError({ field: `${field}.content`, value: content, expected: 'a string or an array of {type: "text" | "image" | "audio"} items' });
  }
  content.forEach((item: unknown, itemIndex) => {
    const itemField = `${field}.content[${itemIndex}]`;
    if (item === null || typeof item !== 'object' || !itemTypes.includes((item as { type?: unknown }).type as string)) {
      throw new InputError({ field: `${itemField}.type`, value: (item as { type?: unknown } | null)?.type, expected: '"text", "image" or "audio"' });
    }
    const typed = item as ChatContentItem;
    if (typed.type === 'text' && typeof typed.text !== 'string') {
      throw new InputError({ field: `${itemField}.text`, value: typed.text, expected: 'a string' });
    }
  });
  if (message.role === 'system' && (content.length === 0 || content[0]!.type !== 'text')) {
    // Gemma's template reads the system prompt from the first item's text.
    throw new InputError({ field: `${field}.content[0]`, value: content[0], expected: 'a text item holding the system prompt' });
  }
}
