import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import {
  defaultGenerationConfig,
  defaultPreprocessorConfig,
  defaultProcessorConfig,
} from '../convert-folder-defaults';
import { writeFolderAtomically, writeJsonFile } from '../convert-output-folder';
import { writeSafetensorsCheckpoint, type WritableDtype } from '../safetensors/write-safetensors';
import type { InMemoryTensorSource } from '../tensor-source';
import { randomCheckpointWeights } from './random-checkpoint-weights';
import { buildSyntheticTokenizerFiles } from './synthetic-tokenizer';

/** Tokenizer files to put in the folder, e.g. from `buildGemma3nTokenizerFiles`. */
export interface CheckpointTokenizerFiles {
  // Plain `object`, so the typed output of buildGemma3nTokenizerFiles fits without casts;
  // the contents are written out as JSON unchanged.
  tokenizerJson: object;
  tokenizerConfig: object;
  chatTemplate?: string;
  processorConfig?: object;
}

export interface WriteRandomCheckpointOptions {
  seed: number;
  /** Default: a synthetic tokenizer of exactly vocab_size ids (see synthetic-tokenizer.ts). */
  tokenizerFiles?: CheckpointTokenizerFiles;
  /** Split the weights into about this many shards with an index (default: one file). */
  shards?: number;
  /** Stored dtype (default F32); with BF16 the returned weights are rounded the same way. */
  dtype?: WritableDtype;
  overwrite?: boolean;
  /** Also write the vision and audio towers (see RandomCheckpointOptions.includeTowers). */
  includeTowers?: boolean;
}

export interface RandomCheckpoint {
  folder: string;
  files: string[];
  /** The weights as written (bf16-rounded when dtype is BF16), for reference computations. */
  weights: InMemoryTensorSource;
}

/**
 * Writes a Hugging Face Gemma 3n checkpoint folder of random weights: config.json,
 * generation_config.json, model.safetensors (or shards + model.safetensors.index.json),
 * tokenizer.json, tokenizer_config.json, chat_template.jinja, processor_config.json and
 * preprocessor_config.json. Built in a temporary sibling folder and renamed at the end.
 */
export async function writeRandomCheckpoint(
  outDir: string,
  rawConfig: Record<string, unknown>,
  options: WriteRandomCheckpointOptions,
): Promise<RandomCheckpoint> {
  const config = parseGemma3nConfig(rawConfig);
  const dtype = options.dtype ?? 'F32';
  const weights = randomCheckpointWeights(rawConfig, { seed: options.seed, dtype, includeTowers: options.includeTowers });
  const tokenizer: CheckpointTokenizerFiles = options.tokenizerFiles ?? buildSyntheticTokenizerFiles(rawConfig);

  return writeFolderAtomically(outDir, { overwrite: options.overwrite }, async (folder) => {
    const files: string[] = [];
    const json = async (name: string, value: unknown) => {
      await writeJsonFile(join(folder, name), value);
      files.push(name);
    };
    await json('config.json', rawConfig);
    await json('generation_config.json', defaultGenerationConfig(config));

    let maxShardBytes: number | undefined;
    if (options.shards !== undefined && options.shards > 1) {
      const elementBytes = dtype === 'F32' ? 4 : 2;
      const totalBytes = weights.names().reduce((sum, name) => sum + weights.get(name).length * elementBytes, 0);
      maxShardBytes = Math.ceil(totalBytes / options.shards);
    }
    const written = await writeSafetensorsCheckpoint(folder, weights, {
      dtype,
      maxShardBytes,
      metadata: { format: 'pt' },
    });
    files.push(...written.files);

    await json('tokenizer.json', tokenizer.tokenizerJson);
    await json('tokenizer_config.json', tokenizer.tokenizerConfig);
    if (tokenizer.chatTemplate !== undefined) {
      await writeFile(join(folder, 'chat_template.jinja'), tokenizer.chatTemplate);
      files.push('chat_template.jinja');
    }
    await json('processor_config.json', tokenizer.processorConfig ?? defaultProcessorConfig(config));
    await json('preprocessor_config.json', defaultPreprocessorConfig(config));
    return { folder: outDir, files, weights };
  });
}
