import { ConfigError } from '../errors/config-error';
import type { Gemma3nConfig, Gemma3nTextConfig } from './gemma3n-config-types';
import { ConfigReader, isJsonObject } from './config-reader';
import { parseAudioConfig, parseVisionConfig } from './parse-multimodal-config';
import { parseTextConfig } from './parse-text-config';

/** Defaults of the top-level `config.json` fields (architecture doc §5). */
export const gemma3nTopLevelDefaults = {
  architectures: ['Gemma3nForConditionalGeneration'],
  imageTokenId: 262_145,
  audioTokenId: 262_273,
  boiTokenId: 255_999,
  eoiTokenId: 262_144,
  boaTokenId: 256_000,
  eoaTokenId: 262_272,
  visionSoftTokensPerImage: 256,
  audioSoftTokensPerImage: 188,
} as const;

/**
 * Validates a parsed `config.json` into a complete Gemma3nConfig: every missing field takes the
 * E2B default, every present one is checked (type, range, relation to other fields).
 * `vision` / `audio` are null when the file has no `vision_config` / `audio_config`.
 *
 * @param json - the parsed JSON (`JSON.parse` output).
 * @param source - the file name used in error messages.
 * @throws ConfigError naming the field path, the bad value and what was expected.
 */
export function parseGemma3nConfig(json: unknown, source = 'config.json'): Gemma3nConfig {
  if (!isJsonObject(json)) {
    throw new ConfigError({ source, field: '(top level)', value: json, expected: 'a JSON object' });
  }
  const reader: ConfigReader = new ConfigReader(json, '', source);
  const modelType = reader.raw('model_type');
  if (modelType !== 'gemma3n') reader.fail('model_type', modelType, '"gemma3n"');
  const defaults = gemma3nTopLevelDefaults;

  const architectures = reader.has('architectures')
    ? reader.list('architectures', (field, value) => {
        if (typeof value !== 'string' || value === '') reader.fail(field, value, 'a class name string');
        return value;
      })
    : [...defaults.architectures];
  if (architectures.length === 0) reader.fail('architectures', architectures, 'a non-empty list of class names');

  const textReader = reader.child('text_config') ?? new ConfigReader({}, 'text_config', source);
  const text = parseTextConfig(textReader, {
    padTokenId: reader.raw('pad_token_id'),
    eosTokenId: reader.raw('eos_token_id'),
    bosTokenId: reader.raw('bos_token_id'),
  });
  const visionReader = reader.child('vision_config');
  const audioReader = reader.child('audio_config');
  const vision = visionReader === undefined ? null : parseVisionConfig(visionReader, text);
  const audio = audioReader === undefined ? null : parseAudioConfig(audioReader, text);

  const tokenId = (key: string, fallback: number) => readTopLevelTokenId(reader, key, fallback, text);
  const config: Gemma3nConfig = {
    modelType: 'gemma3n',
    architectures,
    imageTokenId: tokenId('image_token_id', defaults.imageTokenId),
    audioTokenId: tokenId('audio_token_id', defaults.audioTokenId),
    boiTokenId: tokenId('boi_token_id', defaults.boiTokenId),
    eoiTokenId: tokenId('eoi_token_id', defaults.eoiTokenId),
    boaTokenId: tokenId('boa_token_id', defaults.boaTokenId),
    eoaTokenId: tokenId('eoa_token_id', defaults.eoaTokenId),
    visionSoftTokensPerImage: reader.integer('vision_soft_tokens_per_image', defaults.visionSoftTokensPerImage),
    audioSoftTokensPerImage: reader.integer('audio_soft_tokens_per_image', defaults.audioSoftTokensPerImage),
    text,
    vision,
    audio,
    raw: json,
  };

  // A soft token is embedded as a hard token of its embedder before the encoder output
  // overwrites it, so it must fall inside that embedder's id range.
  const embedders = [
    ['image_token_id', config.imageTokenId, vision, 'vision_config'],
    ['audio_token_id', config.audioTokenId, audio, 'audio_config'],
  ] as const;
  for (const [key, id, embedder, embedderKey] of embedders) {
    if (embedder === null) continue;
    const end = embedder.vocabOffset + embedder.vocabSize;
    if (id < embedder.vocabOffset || id >= end) {
      reader.failKey(key, id, `an id in [${embedder.vocabOffset}, ${end}) (the ${embedderKey} vocabulary)`);
    }
  }
  return config;
}

function readTopLevelTokenId(reader: ConfigReader, key: string, fallback: number, text: Gemma3nTextConfig): number {
  const id = reader.integer(key, fallback, 0);
  if (id >= text.vocabSize) reader.failKey(key, id, `a token id below text_config.vocab_size (${text.vocabSize})`);
  return id;
}
