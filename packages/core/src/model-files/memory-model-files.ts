import { ModelFileError } from '../errors/model-file-error';
import type { ByteRange, ModelFiles } from './model-files';
import { checkByteRange, decodeUtf8, modelPathSegments, parseJsonFile, shortReadError } from './model-path';

/**
 * A model folder held in memory: for tests, for folders assembled in a browser (files picked by
 * the user, a converter's output before it is saved), and as the reference behaviour of the
 * ModelFiles contract. Strings are stored as their UTF-8 bytes.
 */
export class MemoryModelFiles implements ModelFiles {
  readonly location: string;
  private readonly files = new Map<string, Uint8Array>();

  constructor(files: Record<string, Uint8Array | string>, location = 'memory:') {
    this.location = location;
    const encoder = new TextEncoder();
    for (const [path, content] of Object.entries(files)) {
      this.files.set(normalize(path), typeof content === 'string' ? encoder.encode(content) : content);
    }
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(normalize(path));
  }

  async size(path: string): Promise<number> {
    return this.file(path).length;
  }

  async readBytes(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range !== undefined) checkByteRange(range);
    const file = this.file(path);
    if (range === undefined) return file.slice();
    const part = file.slice(range.offset, range.offset + range.length);
    if (part.length < range.length) {
      throw shortReadError({ path, location: this.location, range, actualBytes: part.length, fileSize: file.length });
    }
    return part;
  }

  async readText(path: string): Promise<string> {
    return decodeUtf8(this.file(path));
  }

  async readJson<T = unknown>(path: string): Promise<T> {
    return parseJsonFile<T>(await this.readText(path), path, this.location);
  }

  private file(path: string): Uint8Array {
    const file = this.files.get(normalize(path));
    if (file === undefined) throw new ModelFileError({ path, location: this.location, problem: 'missing' });
    return file;
  }
}

function normalize(path: string): string {
  return modelPathSegments(path).join('/');
}
