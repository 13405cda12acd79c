import { isOnnxDtype, onnxDtypeSuffixes } from '@gemma3n/core';

/** The dtype suffix of one session from `config.json`'s `transformers.js_config.dtype`, as the loader reads it. */
function suffixFor(session: string, rawConfig: Record<string, unknown>): string {
  const settings = rawConfig['transformers.js_config'] as { dtype?: unknown } | undefined;
  const dtype = settings?.dtype;
  const chosen = typeof dtype === 'string' ? dtype : typeof dtype === 'object' && dtype !== null ? (dtype as Record<string, unknown>)[session] : undefined;
  return isOnnxDtype(chosen) ? onnxDtypeSuffixes[chosen] : '';
}

/**
 * The companions `gemma3n offload-ple` writes beside the embed graph (the names the decoder's
 * loader looks for): the text-only embed graph and the per-layer table file.
 */
export function perLayerOffloadFilePaths(rawConfig: Record<string, unknown>): { textEmbedFile: string; tableFile: string } {
  const suffix = suffixFor('embed_tokens', rawConfig);
  return { textEmbedFile: `onnx/embed_tokens_text${suffix}.onnx`, tableFile: `onnx/embed_tokens_per_layer${suffix}.safetensors` };
}

/**
 * The files a text-only load reads, for `CachedModelFiles.prefetch` (its `.onnx` entries bring
 * their `_data` files along); with `pleOffload`, the offload companions replace the embed graph.
 * Listing them first gives the progress bar its real total; a file
 * the loader reads beyond this list is still cached when it is read.
 */
export function textModelFilePaths(rawConfig: Record<string, unknown>, options: { pleOffload?: boolean } = {}): string[] {
  const offloaded = perLayerOffloadFilePaths(rawConfig);
  const embedFiles = options.pleOffload === true ? [offloaded.textEmbedFile, offloaded.tableFile] : [`onnx/embed_tokens${suffixFor('embed_tokens', rawConfig)}.onnx`];
  return [
    'config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'generation_config.json',
    // The tokenizer adapter reads the chat template from here when the folder has it.
    'chat_template.jinja',
    'processor_config.json',
    ...embedFiles,
    `onnx/decoder_model_merged${suffixFor('decoder_model_merged', rawConfig)}.onnx`,
  ];
}
