import { Tensor } from 'onnxruntime-common';
import { InputError, type ModelFiles, ModelFileError } from '@gemma3n/core';
import type { ModelSession } from '../runtime/model-session';
import { PerLayerTableReader, type PerLayerTableReaderOptions } from './per-layer-table-reader';

/**
 * An `embed_tokens` session with the per-layer table kept off the heap: it runs the text-only
 * embed graph (`embed_tokens_text*.onnx`, output `inputs_embeds`) and reads `per_layer_inputs`
 * from the table file per token. It has the names and outputs of a full `embed_tokens` session,
 * so DecoderRuntime takes it unchanged as its `embedSession`.
 */
export class OffloadedEmbedSession implements ModelSession {
  readonly inputNames: readonly string[] = ['input_ids'];
  readonly outputNames: readonly string[] = ['inputs_embeds', 'per_layer_inputs'];

  constructor(
    private readonly textSession: ModelSession,
    readonly table: PerLayerTableReader,
    /** For error messages: the text graph's file name. */
    private readonly textFileName = 'embed_tokens_text.onnx',
  ) {
    const missing = ['inputs_embeds'].filter((name) => !textSession.outputNames.includes(name));
    if (!textSession.inputNames.includes('input_ids') || missing.length > 0) {
      throw new ModelFileError({
        path: textFileName,
        problem: 'unreadable',
        message: `Model file "${textFileName}" is not a Gemma 3n text embedder: it needs input input_ids and output inputs_embeds (it declares ${textSession.inputNames.join(', ')} → ${textSession.outputNames.join(', ')})`,
      });
    }
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const inputIds = feeds.input_ids;
    if (inputIds === undefined || inputIds.dims.length !== 2) throw new RangeError('OffloadedEmbedSession.run needs input_ids [batch, sequence]');
    const [batch, sequence] = inputIds.dims as [number, number];
    const ids = Array.from(inputIds.data as BigInt64Array, (id) => Number(id));
    // The session and the row reads overlap: one runs in the engine, the other waits on I/O.
    const [embedded, perLayer] = await Promise.all([this.textSession.run({ input_ids: inputIds }), this.table.read(ids)]);
    const { numLayers, layerWidth } = this.table.layout;
    return {
      ...embedded,
      per_layer_inputs: new Tensor('float32', perLayer, [batch, sequence, numLayers, layerWidth]),
    };
  }

  async release(): Promise<void> {
    await this.textSession.release?.();
  }
}

/** `onnx/embed_tokens{suffix}.onnx` → the two companion files of the offloaded layout. */
export function offloadedEmbedFiles(embedFile: string): { textEmbedFile: string; tableFile: string } {
  const slash = embedFile.lastIndexOf('/');
  const folder = embedFile.slice(0, slash + 1);
  const match = /^embed_tokens(.*)\.onnx$/.exec(embedFile.slice(slash + 1));
  if (match === null) throw new RangeError(`"${embedFile}" is not named embed_tokens{suffix}.onnx`);
  return { textEmbedFile: `${folder}embed_tokens_text${match[1]}.onnx`, tableFile: `${folder}embed_tokens_per_layer${match[1]}.safetensors` };
}

/**
 * `pleOffload`: `'auto'` (default) offloads when the folder has the companion files and the
 * table is at least `minimumTableBytes`; `true` requires them (a ModelFileError names what is
 * missing and how to make it); `false` keeps the table in the embed graph.
 */
export type PleOffloadChoice = boolean | 'auto';

/** Tables from this size up are offloaded by `'auto'` (E2B's q8 table is 2 GB; tiny test tables stay in the graph). */
export const DEFAULT_MINIMUM_OFFLOAD_BYTES = 64 * 1024 * 1024;

export interface PerLayerOffloadPlan {
  textEmbedFile: string;
  table: PerLayerTableReader;
}

/**
 * Decides whether the embed session of `embedFile` is replaced by the offloaded pair, and opens
 * the table when it is (checking its header and size). Returns undefined to keep `embedFile`.
 */
export async function planPerLayerOffload(
  files: ModelFiles,
  embedFile: string,
  choice: PleOffloadChoice = 'auto',
  options: PerLayerTableReaderOptions & { minimumTableBytes?: number } = {},
): Promise<PerLayerOffloadPlan | undefined> {
  if (choice !== true && choice !== false && choice !== 'auto') {
    throw new InputError({ field: 'pleOffload', value: choice, expected: "'auto', true or false" });
  }
  if (choice === false) return undefined;
  const { textEmbedFile, tableFile } = offloadedEmbedFiles(embedFile);
  const present = await Promise.all([files.exists(textEmbedFile), files.exists(tableFile)]);
  if (!present[0] || !present[1]) {
    if (choice === 'auto') return undefined;
    const missing = [textEmbedFile, tableFile].filter((_, index) => !present[index]);
    throw new ModelFileError({
      path: missing[0]!,
      location: files.location,
      problem: 'missing',
      message:
        `pleOffload: true needs ${missing.join(' and ')} in ${files.location}, beside ${embedFile}; ` +
        'make them with `gemma3n offload-ple <folder>` (or pass pleOffload: false to keep the table in the embed graph)',
    });
  }
  if (choice === 'auto' && (await files.size(tableFile)) < (options.minimumTableBytes ?? DEFAULT_MINIMUM_OFFLOAD_BYTES)) return undefined;
  return { textEmbedFile, table: await PerLayerTableReader.open(files, tableFile, options) };
}
