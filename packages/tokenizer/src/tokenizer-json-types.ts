/**
 * The parts of a Hugging Face `tokenizer.json` (and `tokenizer_config.json`) that this package
 * reads. Field names keep the file's snake_case spelling so the types document the format.
 * Everything is optional or loosely typed on purpose: the loader validates the actual content
 * and reports the offending key, so these types describe shape, not guarantees.
 */

/** One entry of `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** `{"String": " "}` or `{"Regex": "\\s+"}` as used by Replace and Split. */
export interface PatternJson {
  String?: string;
  Regex?: string;
}

export interface ComponentJson {
  type: string;
  [key: string]: unknown;
}

export interface BpeModelJson {
  type: 'BPE' | string;
  dropout?: number | null;
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  fuse_unk?: boolean;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
  vocab: Record<string, number>;
  /** Either `["a", "b"]` pairs (tokenizers ≥ 0.20) or `"a b"` strings (older files). */
  merges: Array<[string, string] | string>;
}

export interface TokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens: AddedTokenJson[];
  normalizer: ComponentJson | null;
  pre_tokenizer: ComponentJson | null;
  post_processor: ComponentJson | null;
  decoder: ComponentJson | null;
  model: BpeModelJson;
}

/** An `added_tokens_decoder` entry of `tokenizer_config.json` (the id is the key). */
export interface AddedTokenDecoderEntryJson {
  content: string;
  lstrip: boolean;
  normalized: boolean;
  rstrip: boolean;
  single_word: boolean;
  special: boolean;
}

export interface TokenizerConfigJson {
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  bos_token?: string | { content: string };
  eos_token?: string | { content: string };
  pad_token?: string | { content: string };
  unk_token?: string | { content: string };
  chat_template?: string | Array<{ name: string; template: string }>;
  clean_up_tokenization_spaces?: boolean;
  image_token?: string;
  boi_token?: string;
  eoi_token?: string;
  audio_token?: string;
  boa_token?: string;
  eoa_token?: string;
  extra_special_tokens?: Record<string, string>;
  added_tokens_decoder?: Record<string, AddedTokenDecoderEntryJson>;
  [key: string]: unknown;
}

/** `processor_config.json` of a Gemma 3n model folder. */
export interface ProcessorConfigJson {
  processor_class?: string;
  image_seq_length?: number;
  audio_seq_length?: number;
  [key: string]: unknown;
}
