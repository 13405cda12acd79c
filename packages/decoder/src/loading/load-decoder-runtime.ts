import {
  type Backend,
  type ExternalDataEntry,
  type Gemma3nConfig,
  type ModelFiles,
  ModelFileError,
  type ModelSource,
  parseGemma3nConfig,
  type SessionOptions,
} from '@gemma3n/core';
import { OffloadedEmbedSession, planPerLayerOffload, type PleOffloadChoice } from '../ple/offloaded-embed-session';
import type { PerLayerTableReaderOptions } from '../ple/per-layer-table-reader';
import { DecoderRuntime } from '../runtime/decoder-runtime';
import { checkExternalData } from './external-data-check';
import { type DtypeChoice, dtypeFor, onnxFileName, type TextSessionName } from './onnx-file-names';

export interface LoadDecoderRuntimeParams {
  files: ModelFiles;
  backend: Backend;
  /** Weight format of the text sessions; default from config.json, else fp32. */
  dtype?: DtypeChoice;
  /** Passed to `backend.createSession` for both sessions. */
  sessionOptions?: SessionOptions;
  /** The parsed config.json, when the caller has it already. */
  config?: Gemma3nConfig;
  /** See DecoderRuntimeParams.prefillChunkSize (default 512). */
  prefillChunkSize?: number;
  /**
   * Read `per_layer_inputs` per token from `embed_tokens_per_layer{suffix}.safetensors` and run
   * `embed_tokens_text{suffix}.onnx`, instead of holding the per-layer table in the embed session.
   * `'auto'` (default): when both files are in the folder and the table is at least 64 MiB;
   * `true`: require them; `false`: never.
   */
  pleOffload?: PleOffloadChoice;
  /** Options of the per-layer table reader (row cache size, concurrent reads, the auto threshold). */
  perLayerTable?: PerLayerTableReaderOptions & { minimumTableBytes?: number };
}

export interface LoadedDecoderRuntime {
  runtime: DecoderRuntime;
  config: Gemma3nConfig;
  /**
   * The two files loaded, e.g. `{ embed_tokens: 'onnx/embed_tokens_quantized.onnx', … }`; with
   * the per-layer table offloaded, `embed_tokens` is the text graph (`embed_tokens_text_quantized.onnx`).
   */
  fileNames: Record<TextSessionName, string>;
  /** The per-layer table file read per token, when offloaded. */
  perLayerTableFile?: string;
}

/**
 * Opens the two text sessions of a model folder — ours or an onnx-community one — and
 * wraps them in a DecoderRuntime. Files are checked first, so a missing one is a
 * ModelFileError naming it rather than an engine error.
 */
export async function loadDecoderRuntime(params: LoadDecoderRuntimeParams): Promise<LoadedDecoderRuntime> {
  const { files, backend } = params;
  const config = params.config ?? parseGemma3nConfig(await files.readJson('config.json'), 'config.json');
  const embedFile = onnxFileName('embed_tokens', dtypeFor('embed_tokens', params.dtype, config.raw));
  const offload = await planPerLayerOffload(files, embedFile, params.pleOffload ?? 'auto', {
    vocabSizePerLayerInput: config.text.vocabSizePerLayerInput,
    ...params.perLayerTable,
  });
  const fileNames = {
    embed_tokens: offload?.textEmbedFile ?? embedFile,
    decoder_model_merged: onnxFileName('decoder_model_merged', dtypeFor('decoder_model_merged', params.dtype, config.raw)),
  };
  for (const path of Object.values(fileNames)) {
    if (!(await files.exists(path))) {
      throw new ModelFileError({
        path,
        location: files.location,
        problem: 'missing',
        message:
          `Model file "${path}" does not exist in ${files.location}; a Gemma 3n text model needs ` +
          `onnx/embed_tokens*.onnx and onnx/decoder_model_merged*.onnx (check the dtype option)`,
      });
    }
  }
  // One at a time: each session's weights are in memory while it is created.
  const embedGraphSession = await backend.createSession(await modelSourceOf(files, fileNames.embed_tokens), params.sessionOptions);
  const embedSession = offload === undefined ? embedGraphSession : new OffloadedEmbedSession(embedGraphSession, offload.table, offload.textEmbedFile);
  const decoderSession = await backend.createSession(
    await modelSourceOf(files, fileNames.decoder_model_merged),
    params.sessionOptions,
  );
  const runtime = new DecoderRuntime({
    embedSession,
    decoderSession,
    config: {
      numKeyValueHeads: config.text.numKeyValueHeads,
      headDim: config.text.headDim,
      maxPositionEmbeddings: config.text.maxPositionEmbeddings,
      vocabSizePerLayerInput: config.text.vocabSizePerLayerInput,
    },
    embedFileName: fileNames.embed_tokens,
    decoderFileName: fileNames.decoder_model_merged,
    backendName: backend.name,
    prefillChunkSize: params.prefillChunkSize,
  });
  return { runtime, config, fileNames, perLayerTableFile: offload?.table.path };
}

/**
 * A path when the files are on this machine (the engine then reads the weights itself),
 * otherwise the bytes with every external data file its initializers name
 * (`<file>.onnx_data`, `<file>.onnx_data_1`, …). Either way the external data files are
 * checked to exist and to be long enough first.
 */
export async function modelSourceOf(files: ModelFiles, path: string): Promise<ModelSource> {
  const local = files.localPath?.(path);
  const hasExternalData = await files.exists(`${path}_data`);
  if (local !== undefined) {
    // The graph file is small when the weights are external; read it only then, to check them.
    if (hasExternalData) await checkExternalData(files, path, await files.readBytes(path));
    return { type: 'path', path: local };
  }
  const bytes = await files.readBytes(path);
  const externalData: ExternalDataEntry[] = [];
  for (const file of await checkExternalData(files, path, bytes)) {
    externalData.push({ path: file.location, data: await files.readBytes(file.path) });
  }
  return { type: 'bytes', bytes, externalData, name: path };
}
