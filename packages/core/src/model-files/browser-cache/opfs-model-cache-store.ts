import { modelPathSegments } from '../model-path';
import type { ModelCacheManifest, ModelCacheStore, ModelFileAppender } from './model-cache-store';

/**
 * The parts of the File System Access API (OPFS) this store uses, spelled out so the store
 * runs on any object of that shape (the browser's, or a test double in Node).
 */
export interface OpfsWritableStream {
  write(data: Uint8Array | { type: 'truncate'; size: number }): Promise<void>;
  seek(position: number): Promise<void>;
  close(): Promise<void>;
}
export interface OpfsFileHandle {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<Blob>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<OpfsWritableStream>;
}
export interface OpfsDirectoryHandle {
  readonly kind: 'directory';
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  keys(): AsyncIterable<string>;
}

const MANIFEST_NAME = 'manifest.json';
const FILES_FOLDER = 'files';
/**
 * createWritable writes to a swap file that becomes the file only on close, so a download
 * is committed every this many bytes: a tab closed mid-download keeps all but the last part.
 */
const COMMIT_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Model files in the origin private file system: `<root>/<folderName>/<model key>/manifest.json`
 * and `…/files/<path>`. Reads are lazy Blobs (`getFile()`), so a ranged read touches only its bytes.
 */
export class OpfsModelCacheStore implements ModelCacheStore {
  readonly kind = 'opfs' as const;

  constructor(
    private readonly root: OpfsDirectoryHandle,
    private readonly folderName = 'gemma3n-models',
  ) {}

  async readManifest(modelKey: string): Promise<ModelCacheManifest | undefined> {
    const folder = await this.modelFolder(modelKey, false);
    const handle = folder === undefined ? undefined : await fileIn(folder, MANIFEST_NAME, false);
    if (handle === undefined) return undefined;
    return JSON.parse(await (await handle.getFile()).text()) as ModelCacheManifest;
  }

  async writeManifest(manifest: ModelCacheManifest): Promise<void> {
    const folder = (await this.modelFolder(manifest.modelKey, true)) as OpfsDirectoryHandle;
    const handle = (await fileIn(folder, MANIFEST_NAME, true)) as OpfsFileHandle;
    const writable = await handle.createWritable();
    await writable.write(new TextEncoder().encode(JSON.stringify(manifest)));
    await writable.close();
  }

  async readFile(modelKey: string, path: string): Promise<Blob | undefined> {
    const handle = await this.fileHandle(modelKey, path, false);
    return handle === undefined ? undefined : handle.getFile();
  }

  /**
   * The OPFS handle of a stored file, or undefined when it is not stored. For readers that open
   * it themselves, e.g. `createSyncAccessHandle()` in a worker for positioned reads.
   */
  async storedFileHandle(modelKey: string, path: string): Promise<OpfsFileHandle | undefined> {
    return this.fileHandle(modelKey, path, false);
  }

  async openAppender(modelKey: string, path: string, offset: number): Promise<ModelFileAppender> {
    const handle = (await this.fileHandle(modelKey, path, true)) as OpfsFileHandle;
    let writable: OpfsWritableStream | undefined;
    let position = offset;
    let uncommitted = 0;
    const open = async (): Promise<OpfsWritableStream> => {
      const stream = await handle.createWritable({ keepExistingData: true });
      await stream.write({ type: 'truncate', size: position });
      await stream.seek(position);
      return stream;
    };
    return {
      async write(chunk: Uint8Array): Promise<void> {
        writable ??= await open();
        await writable.write(chunk);
        position += chunk.length;
        uncommitted += chunk.length;
        if (uncommitted >= COMMIT_EVERY_BYTES) {
          await writable.close();
          writable = undefined;
          uncommitted = 0;
        }
      },
      async close(): Promise<void> {
        // Even with nothing written, the truncation to `offset` must happen.
        writable ??= await open();
        await writable.close();
        writable = undefined;
      },
    };
  }

  async listModels(): Promise<string[]> {
    const top = await this.topFolder(false);
    if (top === undefined) return [];
    const keys: string[] = [];
    for await (const name of top.keys()) {
      const folder = await top.getDirectoryHandle(name);
      if ((await fileIn(folder, MANIFEST_NAME, false)) !== undefined) keys.push(decodeURIComponent(name));
    }
    return keys;
  }

  async removeModel(modelKey: string): Promise<void> {
    const top = await this.topFolder(false);
    if (top === undefined) return;
    await top.removeEntry(encodeURIComponent(modelKey), { recursive: true }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  private async topFolder(create: boolean): Promise<OpfsDirectoryHandle | undefined> {
    return folderIn(this.root, this.folderName, create);
  }

  private async modelFolder(modelKey: string, create: boolean): Promise<OpfsDirectoryHandle | undefined> {
    const top = await this.topFolder(create);
    // A URL has "/" and ":", which OPFS names cannot hold; percent-encoding keeps keys distinct.
    return top === undefined ? undefined : folderIn(top, encodeURIComponent(modelKey), create);
  }

  private async fileHandle(modelKey: string, path: string, create: boolean): Promise<OpfsFileHandle | undefined> {
    let folder = await this.modelFolder(modelKey, create);
    folder = folder === undefined ? undefined : await folderIn(folder, FILES_FOLDER, create);
    const segments = modelPathSegments(path);
    for (const segment of segments.slice(0, -1)) {
      if (folder === undefined) return undefined;
      folder = await folderIn(folder, segment, create);
    }
    return folder === undefined ? undefined : fileIn(folder, segments[segments.length - 1] as string, create);
  }
}

async function folderIn(parent: OpfsDirectoryHandle, name: string, create: boolean): Promise<OpfsDirectoryHandle | undefined> {
  try {
    return await parent.getDirectoryHandle(name, { create });
  } catch (error) {
    if (!create && isNotFound(error)) return undefined;
    throw error;
  }
}

async function fileIn(parent: OpfsDirectoryHandle, name: string, create: boolean): Promise<OpfsFileHandle | undefined> {
  try {
    return await parent.getFileHandle(name, { create });
  } catch (error) {
    if (!create && isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'NotFoundError';
}
