/** The reads of `@gemma3n/core`'s `ModelFiles`, restated so this package depends on no workspace package. */
export interface FolderReads {
  readonly location: string;
  exists(path: string): Promise<boolean>;
  size(path: string): Promise<number>;
  readBytes(path: string, range?: { offset: number; length: number }): Promise<Uint8Array>;
  readJson<T = unknown>(path: string): Promise<T>;
  readText(path: string): Promise<string>;
}

/** The same files without `localPath`, as a browser sees a model folder: a loader then passes bytes, not paths. */
export function withoutFilesystem(files: FolderReads): FolderReads {
  return {
    location: files.location,
    exists: (path) => files.exists(path),
    size: (path) => files.size(path),
    readBytes: (path, range) => files.readBytes(path, range),
    readJson: (path) => files.readJson(path),
    readText: (path) => files.readText(path),
  };
}
