import { TokenizerError } from '@gemma3n/core';
import { isRecord } from '../pipeline/json-fields';

export interface MediaSequenceLengths {
  /** Soft tokens per image (`image_seq_length`). */
  image: number;
  /** Soft tokens per audio clip (`audio_seq_length`). */
  audio: number;
}

/** `Gemma3nProcessor`'s defaults, used when a folder has no processor_config.json. */
export const defaultMediaSequenceLengths: MediaSequenceLengths = { image: 256, audio: 188 };

const source = 'processor_config.json';

export function readMediaSequenceLengths(processorConfig: unknown): MediaSequenceLengths {
  if (processorConfig === undefined || processorConfig === null) return { ...defaultMediaSequenceLengths };
  if (!isRecord(processorConfig)) {
    throw new TokenizerError({ source, message: 'expected a JSON object', value: processorConfig });
  }
  return {
    image: readLength(processorConfig, 'image_seq_length', defaultMediaSequenceLengths.image),
    audio: readLength(processorConfig, 'audio_seq_length', defaultMediaSequenceLengths.audio),
  };
}

function readLength(config: Record<string, unknown>, key: string, fallback: number): number {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TokenizerError({ source, message: `${key} is ${JSON.stringify(value)}; expected a positive integer`, value });
  }
  return value;
}

interface MediaTokens {
  startOfImage: { content: string } | undefined;
  endOfImage: { content: string } | undefined;
  imageSoftToken: { content: string } | undefined;
  startOfAudio: { content: string } | undefined;
  endOfAudio: { content: string } | undefined;
  audioSoftToken: { content: string } | undefined;
}

/**
 * `Gemma3nProcessor`'s text step: every image placeholder becomes
 * `"\n\n" + boi + image_token × image_seq_length + eoi + "\n\n"` and every audio placeholder the
 * same with the audio tokens. A modality whose tokens the tokenizer lacks is left untouched.
 */
export function expandMediaPlaceholders(prompt: string, tokens: MediaTokens, lengths: MediaSequenceLengths): string {
  let expanded = prompt;
  const { startOfAudio, endOfAudio, audioSoftToken, startOfImage, endOfImage, imageSoftToken } = tokens;
  if (startOfAudio !== undefined && endOfAudio !== undefined && audioSoftToken !== undefined) {
    const sequence = `\n\n${startOfAudio.content}${audioSoftToken.content.repeat(lengths.audio)}${endOfAudio.content}\n\n`;
    expanded = expanded.replaceAll(audioSoftToken.content, sequence);
  }
  if (startOfImage !== undefined && endOfImage !== undefined && imageSoftToken !== undefined) {
    const sequence = `\n\n${startOfImage.content}${imageSoftToken.content.repeat(lengths.image)}${endOfImage.content}\n\n`;
    expanded = expanded.replaceAll(imageSoftToken.content, sequence);
  }
  return expanded;
}
