import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '@gemma3n/core';
import type { TensorInfo, TensorSource } from '../tensor-source';
import { SafetensorsFile } from './safetensors-file';

export const SINGLE_FILE_NAME = 'model.safetensors';
export const INDEX_FILE_NAME = 'model.safetensors.index.json';

/**
 * The tensors of a Hugging Face checkpoint folder: `model.safetensors.index.json` with its
 * shards when present (its `weight_map` says which shard holds each tensor), else a single
 * `model.safetensors`. Opening reads every header (a few KB each) and checks that each shard
 * exists, holds the tensors the index assigns to it, and is not truncated; tensor data is
 * read later, one tensor at a time.
 */
export class SafetensorsCheckpoint implements TensorSource {
  private constructor(
    readonly folder: string,
    private readonly fileOf: Map<string, SafetensorsFile>,
    /** The shard file names, in index order (or just `model.safetensors`). */
    readonly files: string[],
  ) {}

  static async open(folder: string): Promise<SafetensorsCheckpoint> {
    const index = await readIndex(folder);
    if (index === undefined) {
      const file = await openFile(folder, SINGLE_FILE_NAME, true);
      const fileOf = new Map(file.names().map((name) => [name, file]));
      return new SafetensorsCheckpoint(folder, fileOf, [SINGLE_FILE_NAME]);
    }

    const tensorsByShard = new Map<string, string[]>();
    for (const [tensor, shard] of Object.entries(index)) {
      const list = tensorsByShard.get(shard) ?? [];
      list.push(tensor);
      tensorsByShard.set(shard, list);
    }
    const fileOf = new Map<string, SafetensorsFile>();
    for (const [shard, tensors] of tensorsByShard) {
      let file: SafetensorsFile;
      try {
        file = await openFile(folder, shard, false);
      } catch (error) {
        if (ModelFileError.isInstance(error) && error.problem === 'missing') {
          throw new ModelFileError({
            path: shard,
            location: folder,
            problem: 'missing',
            message: `Shard "${shard}" listed in ${INDEX_FILE_NAME} (for ${tensors.length} tensors, e.g. "${tensors[0]}") does not exist in ${folder}`,
          });
        }
        throw error;
      }
      for (const tensor of tensors) {
        if (!file.has(tensor)) {
          throw new ModelFileError({
            path: shard,
            location: folder,
            problem: 'unreadable',
            message: `${INDEX_FILE_NAME} places tensor "${tensor}" in "${shard}", but that shard has no such tensor`,
          });
        }
        fileOf.set(tensor, file);
      }
    }
    return new SafetensorsCheckpoint(folder, fileOf, [...tensorsByShard.keys()]);
  }

  has(name: string): boolean {
    return this.fileOf.has(name);
  }

  info(name: string): TensorInfo {
    return this.file(name).info(name);
  }

  read(name: string): Promise<Float32Array> {
    return this.file(name).read(name);
  }

  readRows(name: string, firstRow: number, rowCount: number): Promise<Float32Array> {
    return this.file(name).readRows(name, firstRow, rowCount);
  }

  names(): string[] {
    return [...this.fileOf.keys()];
  }

  private file(name: string): SafetensorsFile {
    const file = this.fileOf.get(name);
    if (file === undefined) {
      throw new ModelFileError({
        path: this.files.length === 1 ? (this.files[0] as string) : INDEX_FILE_NAME,
        location: this.folder,
        problem: 'unreadable',
        message: `Checkpoint ${this.folder} has no tensor "${name}"`,
      });
    }
    return file;
  }
}

/** The index's weight_map, or undefined when the folder has no index file. */
async function readIndex(folder: string): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, INDEX_FILE_NAME), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelFileError({ path: INDEX_FILE_NAME, location: folder, problem: 'unreadable', cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelFileError({ path: INDEX_FILE_NAME, location: folder, problem: 'invalid-json', cause });
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  const valid =
    weightMap !== null &&
    typeof weightMap === 'object' &&
    !Array.isArray(weightMap) &&
    Object.values(weightMap as Record<string, unknown>).every((shard) => typeof shard === 'string' && shard !== '');
  if (!valid) {
    throw new ModelFileError({
      path: INDEX_FILE_NAME,
      location: folder,
      problem: 'unreadable',
      message: `${INDEX_FILE_NAME} in ${folder} has no "weight_map" object of tensor name → shard file name`,
    });
  }
  return weightMap as Record<string, string>;
}

async function openFile(folder: string, fileName: string, isOnlyFile: boolean): Promise<SafetensorsFile> {
  try {
    return await SafetensorsFile.open(join(folder, fileName), fileName);
  } catch (error) {
    if (!ModelFileError.isInstance(error)) throw error;
    if (isOnlyFile && error.problem === 'missing') {
      throw new ModelFileError({
        path: fileName,
        location: folder,
        problem: 'missing',
        message: `Checkpoint folder ${folder} has neither ${SINGLE_FILE_NAME} nor ${INDEX_FILE_NAME}`,
      });
    }
    // The file reader knows only the file name; say which folder it is in.
    throw new ModelFileError({
      path: error.path,
      location: folder,
      problem: error.problem,
      expectedBytes: error.expectedBytes,
      actualBytes: error.actualBytes,
      message: error.message.replace(`"${fileName}"`, `"${fileName}" in ${folder}`),
      cause: error.cause,
    });
  }
}
