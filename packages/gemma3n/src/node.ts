/**
 * Node entry (`@gemma3n/gemma3n/node`): everything of the main entry, with a `Gemma3n.load`
 * that also takes a local directory and uses onnxruntime-node unless told otherwise.
 */
import { readFile } from 'node:fs/promises';
import type { ModelFiles } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { loadImage } from '@gemma3n/vision/node';
import { createNodeBackend, type NodeBackendOptions } from '@gemma3n/backend-node';
import { createGemma3n, Gemma3n as BrowserGemma3n, type Gemma3nLoadOptions, modelFilesFromSource } from './gemma3n';
import type { MediaLoaders } from './media-preprocessor';

export * from './index';
export { NodeDirectoryModelFiles } from '@gemma3n/core/node';
export { createNodeBackend, type NodeBackendOptions } from '@gemma3n/backend-node';

/**
 * Node media reading: images (paths, `file:` URLs, bytes) decoded by sharp — an optional peer
 * dependency, imported on the first image — and audio files read from disk.
 */
export const nodeMediaLoaders: MediaLoaders = {
  loadImage: (source) => loadImage(source as Parameters<typeof loadImage>[0]),
  readFile: async (path) => new Uint8Array(await readFile(path)),
};

export type NodeGemma3nLoadOptions = Gemma3nLoadOptions & {
  /** Settings of the default onnxruntime-node backend (ignored when `backend` is given). */
  node?: NodeBackendOptions;
};

export class Gemma3n extends BrowserGemma3n {
  /** Loads a local directory, an http(s) URL or any ModelFiles. */
  static override async load(source: string | ModelFiles, options: NodeGemma3nLoadOptions = {}): Promise<BrowserGemma3n> {
    const files =
      typeof source === 'string' && !/^https?:\/\//i.test(source)
        ? new NodeDirectoryModelFiles(source)
        : modelFilesFromSource(source, options);
    const { node, ...rest } = options;
    return createGemma3n({
      ...rest,
      files,
      backend: options.backend ?? createNodeBackend(node),
      mediaLoaders: options.mediaLoaders ?? nodeMediaLoaders,
    });
  }
}
