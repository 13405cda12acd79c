import { InputError } from '../../errors/input-error';
import { ModelFileError } from '../../errors/model-file-error';
import type { ByteRange, ModelFiles } from '../model-files';
import { checkByteRange, decodeUtf8, modelPathSegments, parseJsonFile, shortReadError } from '../model-path';

/** A file the user picked: a `File` (or any Blob) and, from `<input webkitdirectory>`, its folder path. */
export interface PickedFile {
  blob: Blob;
  /** Path inside the model folder (`onnx/embed_tokens.onnx`). */
  path: string;
}

/** The shape of `FileSystemDirectoryHandle` walked by `fromDirectoryHandle`. */
export interface PickedDirectoryHandle {
  readonly kind: 'directory';
  readonly name: string;
  values(): AsyncIterable<PickedDirectoryHandle | { readonly kind: 'file'; readonly name: string; getFile(): Promise<Blob> }>;
}

/**
 * A model folder the user picked from disk (`showDirectoryPicker()` or `<input type="file"
 * webkitdirectory>`): reads are Blob slices, so nothing is copied until a session needs it and
 * nothing touches the network.
 */
export class PickedFolderModelFiles implements ModelFiles {
  readonly location: string;
  private readonly files = new Map<string, Blob>();

  constructor(files: Iterable<PickedFile>, location = 'picked folder') {
    this.location = location;
    for (const file of files) this.files.set(modelPathSegments(file.path).join('/'), file.blob);
  }

  /**
   * From `<input webkitdirectory>`'s FileList: each File's `webkitRelativePath` starts with the
   * picked folder's own name, which is dropped so paths are relative to the model folder.
   */
  static fromFileList(files: Iterable<File> | ArrayLike<File>): PickedFolderModelFiles {
    const list = Array.from(files as ArrayLike<File>);
    if (list.length === 0) throw new InputError({ field: 'files', value: list, expected: 'the files of a model folder' });
    const picked: PickedFile[] = [];
    let folderName: string | undefined;
    for (const file of list) {
      const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
      const slash = relative.indexOf('/');
      folderName ??= slash === -1 ? undefined : relative.slice(0, slash);
      picked.push({ blob: file, path: slash === -1 ? relative : relative.slice(slash + 1) });
    }
    return new PickedFolderModelFiles(picked, folderName === undefined ? 'picked files' : `picked folder "${folderName}"`);
  }

  /** From `showDirectoryPicker()`: walks the folder and its sub-folders. */
  static async fromDirectoryHandle(handle: PickedDirectoryHandle): Promise<PickedFolderModelFiles> {
    const picked: PickedFile[] = [];
    const walk = async (folder: PickedDirectoryHandle, prefix: string): Promise<void> => {
      for await (const entry of folder.values()) {
        if (entry.kind === 'directory') await walk(entry, `${prefix}${entry.name}/`);
        else picked.push({ blob: await entry.getFile(), path: `${prefix}${entry.name}` });
      }
    };
    await walk(handle, '');
    return new PickedFolderModelFiles(picked, `picked folder "${handle.name}"`);
  }

  /** The folder's paths, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(modelPathSegments(path).join('/'));
  }

  async size(path: string): Promise<number> {
    return this.blob(path).size;
  }

  async readBytes(path: string, range?: ByteRange): Promise<Uint8Array> {
    const blob = this.blob(path);
    if (range === undefined) return new Uint8Array(await blob.arrayBuffer());
    checkByteRange(range);
    const part = new Uint8Array(await blob.slice(range.offset, range.offset + range.length).arrayBuffer());
    if (part.length < range.length) {
      throw shortReadError({ path, location: this.location, range, actualBytes: part.length, fileSize: blob.size });
    }
    return part;
  }

  async readText(path: string): Promise<string> {
    return decodeUtf8(await this.readBytes(path));
  }

  async readJson<T = unknown>(path: string): Promise<T> {
    return parseJsonFile<T>(await this.readText(path), path, this.location);
  }

  private blob(path: string): Blob {
    const blob = this.files.get(modelPathSegments(path).join('/'));
    if (blob === undefined) throw new ModelFileError({ path, location: this.location, problem: 'missing' });
    return blob;
  }
}
