import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError, parseGemma3nConfig, type PerLayerTableLayout } from '@gemma3n/core';
import { findPerLayerTable } from './find-per-layer-table';
import { OnnxInitializerReader } from './onnx-initializer-reader';
import type { PerLayerTableEncoding } from './per-layer-table-encoders';
import { writePerLayerTableFile } from './per-layer-table-file-writer';
import { perLayerRecordSource } from './per-layer-table-records';
import { writeTextEmbedGraph } from './write-text-embed-graph';
import { perLayerTableFileName, textEmbedFileName } from './write-per-layer-table';

export interface OffloadPerLayerEmbeddingsOptions {
  /**
   * Embed graphs to split, relative to the folder (`onnx/embed_tokens_quantized.onnx`).
   * Default: every `onnx/embed_tokens*.onnx` except the text-only ones.
   */
  embedFiles?: string[];
  /**
   * Only for float tables (fp32/fp16 embed graphs): store them as `q8`, `q4` or `fp16` rows
   * instead of copying their precision. Quantized tables are always copied as they are.
   */
  encoding?: PerLayerTableEncoding;
  /** Rows per read/write block (default: about 64 MiB of records). */
  blockBytes?: number;
  onProgress?: (event: { file: string; done: number; total: number }) => void;
}

export interface OffloadedEmbedFile {
  /** The embed graph read, e.g. `onnx/embed_tokens_quantized.onnx`. */
  embedFile: string;
  /** `onnx/embed_tokens_per_layer_quantized.safetensors`. */
  tableFile: string;
  /** `onnx/embed_tokens_text_quantized.onnx` (+ its data files in `textFiles`). */
  textEmbedFile: string;
  textFiles: string[];
  layout: PerLayerTableLayout;
  tableBytes: number;
  /** What the table was in the graph, e.g. `GatherBlockQuantized of … bits 8, block 32`. */
  source: string;
  /** Initializer bytes a session of the text-only graph no longer loads. */
  removedInitializerBytes: number;
  keptInitializerBytes: number;
}

/**
 * Splits the embed graph(s) of a model folder — ours or an onnx-community one — into the
 * offloaded layout: for each `onnx/embed_tokens{suffix}.onnx`, writes
 * `onnx/embed_tokens_per_layer{suffix}.safetensors` (the per-layer table as rows, read per
 * token by @gemma3n/decoder's PerLayerTableReader) and `onnx/embed_tokens_text{suffix}.onnx`
 * (the graph without it). The original files stay, so the folder still loads in
 * transformers.js. The table is read and written in row blocks: a 2 GB table never sits in
 * memory. Sizes are checked first (a short `.onnx_data` is a ModelFileError with both sizes).
 */
export async function offloadPerLayerEmbeddings(folder: string, options: OffloadPerLayerEmbeddingsOptions = {}): Promise<OffloadedEmbedFile[]> {
  const config = parseGemma3nConfig(await readConfig(folder), join(folder, 'config.json'));
  const numLayers = config.text.numHiddenLayers;
  const layerWidth = config.text.hiddenSizePerLayerInput;
  const embedFiles = options.embedFiles ?? (await defaultEmbedFiles(folder));
  if (embedFiles.length === 0) {
    throw new ModelFileError({ path: 'onnx/embed_tokens.onnx', location: folder, problem: 'missing', message: `${folder} has no onnx/embed_tokens*.onnx to split` });
  }
  const results: OffloadedEmbedFile[] = [];
  for (const embedFile of embedFiles) {
    const reader = await OnnxInitializerReader.open(join(folder, embedFile));
    try {
      const found = await findPerLayerTable(reader, { rowWidth: numLayers * layerWidth });
      if (found.rows < config.text.vocabSizePerLayerInput) {
        throw new ModelFileError({
          path: embedFile,
          location: folder,
          problem: 'unreadable',
          message: `${embedFile}: the per-layer table has ${found.rows} rows, fewer than vocab_size_per_layer_input = ${config.text.vocabSizePerLayerInput}`,
        });
      }
      const source = await perLayerRecordSource(reader, found, { numLayers, layerWidth }, options.encoding);
      const { layout } = source;
      const tableFile = perLayerTableFileName(embedFile);
      const blockRows = Math.max(1, Math.floor((options.blockBytes ?? 64 * 1024 * 1024) / layout.recordBytes));
      const { fileBytes } = await writePerLayerTableFile(join(folder, tableFile), layout, async (writer) => {
        for (let first = 0; first < layout.rows; first += blockRows) {
          const count = Math.min(blockRows, layout.rows - first);
          await writer.writeRecords(await source.records(first, count));
          options.onProgress?.({ file: tableFile, done: first + count, total: layout.rows });
        }
      });
      const textEmbedFile = textEmbedFileName(embedFile);
      const text = await writeTextEmbedGraph(reader, join(folder, textEmbedFile));
      const onnxFolder = textEmbedFile.slice(0, textEmbedFile.lastIndexOf('/') + 1);
      results.push({
        embedFile,
        tableFile,
        textEmbedFile,
        textFiles: text.files.map((file) => `${onnxFolder}${file}`),
        layout,
        tableBytes: fileBytes,
        source: found.description,
        removedInitializerBytes: text.removedInitializerBytes,
        keptInitializerBytes: text.keptInitializerBytes,
      });
    } finally {
      await reader.close();
    }
  }
  return results;
}

async function readConfig(folder: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(join(folder, 'config.json'), 'utf8');
  } catch (cause) {
    throw new ModelFileError({ path: 'config.json', location: folder, problem: 'missing', cause });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelFileError({ path: 'config.json', location: folder, problem: 'invalid-json', cause });
  }
}

async function defaultEmbedFiles(folder: string): Promise<string[]> {
  const onnxFolder = join(folder, 'onnx');
  if (!(await stat(onnxFolder).then((entry) => entry.isDirectory(), () => false))) return [];
  return (await readdir(onnxFolder))
    .filter((name) => /^embed_tokens(?!_text|_per_layer).*\.onnx$/.test(name))
    .sort()
    .map((name) => `onnx/${name}`);
}

/** Output of `gemma3n offload-ple`: one line per file. */
export interface OffloadCommandOutput {
  log(line: string): void;
}

/**
 * `gemma3n offload-ple DIR [--files onnx/embed_tokens_quantized.onnx] [--encoding q8]`: splits
 * the folder's embed graphs and logs what was written and what a session no longer loads.
 */
export async function runOffloadPleCommand(
  options: { dir: string; files?: string[]; encoding?: PerLayerTableEncoding },
  output: OffloadCommandOutput,
): Promise<OffloadedEmbedFile[]> {
  let lastPercent = -1;
  const results = await offloadPerLayerEmbeddings(options.dir, {
    embedFiles: options.files,
    encoding: options.encoding,
    onProgress: (event) => {
      const percent = Math.floor((100 * event.done) / event.total / 10) * 10;
      if (percent !== lastPercent) output.log(`${event.file}: ${percent} %`);
      lastPercent = percent;
    },
  });
  for (const result of results) {
    output.log(
      `${result.embedFile}: per-layer table (${result.source}) → ${result.tableFile} (${mebibytes(result.tableBytes)}, ` +
        `${result.layout.dataType}, ${result.layout.recordBytes} bytes per token); ${result.textEmbedFile} loads ` +
        `${mebibytes(result.keptInitializerBytes)} instead of ${mebibytes(result.keptInitializerBytes + result.removedInitializerBytes)}`,
    );
  }
  return results;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
