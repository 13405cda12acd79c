import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Gemma3nError } from '../errors/gemma3n-error';
import { ModelFileError } from '../errors/model-file-error';
import type { ByteRange, ModelFiles } from '../model-files/model-files';
import { checkByteRange, decodeUtf8, modelPathSegments, parseJsonFile, shortReadError } from '../model-files/model-path';

// fs reads of more than 2 GiB at once fail, and the PLE external data alone is ~2 GB.
const maxChunkBytes = 1 << 30;

/**
 * A model folder on the local filesystem. Ranged reads are positioned reads on one file
 * handle, so reading a tensor from a multi-GB external data file never loads the rest.
 */
export class NodeDirectoryModelFiles implements ModelFiles {
  readonly location: string;

  constructor(directory: string) {
    this.location = resolve(directory);
  }

  localPath(path: string): string {
    return join(this.location, ...modelPathSegments(path));
  }

  async exists(path: string): Promise<boolean> {
    const fullPath = this.localPath(path);
    try {
      return (await stat(fullPath)).isFile();
    } catch (error) {
      if (isMissing(error)) return false;
      throw this.readError(path, error);
    }
  }

  async size(path: string): Promise<number> {
    const fullPath = this.localPath(path);
    try {
      const info = await stat(fullPath);
      if (!info.isFile()) throw this.notAFile(path);
      return info.size;
    } catch (error) {
      throw this.readError(path, error);
    }
  }

  async readBytes(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range !== undefined) checkByteRange(range);
    const fullPath = this.localPath(path);
    let handle;
    try {
      handle = await open(fullPath, 'r');
    } catch (error) {
      throw this.readError(path, error);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw this.notAFile(path);
      const offset = range?.offset ?? 0;
      const length = range?.length ?? info.size;
      const bytes = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const chunk = Math.min(length - filled, maxChunkBytes);
        const { bytesRead } = await handle.read(bytes, filled, chunk, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < length) {
        if (range === undefined) {
          // The file shrank between stat and read: someone is rewriting it.
          throw new ModelFileError({
            path,
            location: this.location,
            problem: 'truncated',
            expectedBytes: length,
            actualBytes: filled,
          });
        }
        throw shortReadError({ path, location: this.location, range, actualBytes: filled, fileSize: info.size });
      }
      return bytes;
    } catch (error) {
      throw this.readError(path, error);
    } finally {
      await handle.close();
    }
  }

  async readText(path: string): Promise<string> {
    return decodeUtf8(await this.readBytes(path));
  }

  async readJson<T = unknown>(path: string): Promise<T> {
    return parseJsonFile<T>(await this.readText(path), path, this.location);
  }

  private notAFile(path: string): ModelFileError {
    return new ModelFileError({
      path,
      location: this.location,
      problem: 'unreadable',
      message: `Model file "${path}" in ${this.location} is a directory, not a file`,
    });
  }

  /** Our own errors pass through; fs errors become ModelFileErrors naming the file. */
  private readError(path: string, error: unknown): Error {
    if (Gemma3nError.isInstance(error)) return error;
    if (isMissing(error)) {
      return new ModelFileError({ path, location: this.location, problem: 'missing', cause: error });
    }
    return new ModelFileError({ path, location: this.location, problem: 'unreadable', cause: error });
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

