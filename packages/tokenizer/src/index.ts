export {
  GemmaTokenizer,
  type DecodeOptions,
  type EncodeOptions,
  type GemmaSpecialTokens,
  type GemmaTokenizerExtras,
  type TokenWithId,
} from './gemma-tokenizer';
export { StreamingDetokenizer, type StreamingDetokenizerOptions } from './streaming-detokenizer';
export type { ApplyChatTemplateOptions, ChatContentItem, ChatMessage, ChatRole } from './chat/apply-chat-template';
export { defaultMediaSequenceLengths, type MediaSequenceLengths } from './chat/media-placeholders';
export { gemma3nChatTemplate } from './chat/gemma3n-chat-template';
export type {
  AddedTokenJson,
  BpeModelJson,
  ProcessorConfigJson,
  TokenizerConfigJson,
  TokenizerJson,
} from './tokenizer-json-types';
