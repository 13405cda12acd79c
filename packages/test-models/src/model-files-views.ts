import type { ModelFiles } from '@gemma3n/core';

/** The same files without `localPath`, as a browser sees a model folder: a loader then passes bytes, not paths. */
export function withoutFilesystem(files: ModelFiles): ModelFiles {
  return {
    location: files.location,
    exists: (path) => files.exists(path),
    size: (path) => files.size(path),
    readBytes: (path, range) => files.readBytes(path, range),
    readJson: (path) => files.readJson(path),
    readText: (path) => files.readText(path),
  };
}
