import { DecoderRuntime } from '../src/runtime/decoder-runtime';
import { createFakeTextModel, type FakeTextModelParams, FakeTokenizer } from '../src/testing';
import type { ConversationMessage } from '../src/chat/chat-session';

/** Ids of the toy vocabulary used by the decoder's unit tests. */
export const ids = {
  pad: 0, eos: 1, bos: 2, startOfTurn: 3, endOfTurn: 4, newline: 5, user: 6, model: 7, space: 8,
  a: 9, // letters a..t are 9..28
  eAcuteLead: 29, eAcuteTail: 30, X: 31, Y: 32, Z: 33,
} as const;

export const vocabulary: (string | Uint8Array)[] = [
  '<pad>', '<eos>', '<bos>', '<start_of_turn>', '<end_of_turn>', '\n', 'user', 'model', ' ',
  ...'abcdefghijklmnopqrst'.split(''),
  Uint8Array.of(0xc3), Uint8Array.of(0xa9), 'X', 'Y', 'Z', 'u', 'v', 'w', 'x', '<image>', '<audio>',
];

export const tokenizer = new FakeTokenizer(vocabulary, new Set([0, 1, 2, 3, 4]));

export function fakeRuntime(params: FakeTextModelParams = {}) {
  const fake = createFakeTextModel({ vocabSize: vocabulary.length, firstMaskedId: 38, ...params });
  return { fake, runtime: new DecoderRuntime(fake) };
}

/** Gemma's template, reduced to what the tests need. */
export function template(messages: readonly ConversationMessage[], addGenerationPrompt: boolean): string {
  let text = '<bos>';
  for (const message of messages) {
    const role = message.role === 'assistant' ? 'model' : message.role;
    text += `<start_of_turn>${role}\n${String(message.content).trim()}<end_of_turn>\n`;
  }
  return addGenerationPrompt ? `${text}<start_of_turn>model\n` : text;
}

/** A rule that plays `script` after the prompt, whatever the prompt was. */
export function scripted(promptLength: () => number, script: readonly number[]) {
  return (sequence: readonly number[]) => script[sequence.length - promptLength()] ?? ids.a;
}
