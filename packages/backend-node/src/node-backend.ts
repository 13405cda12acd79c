import { copyFile, link, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import {
  type Backend,
  BackendError,
  type ExternalDataEntry,
  InputError,
  type ModelSource,
  ModelFileError,
  type SessionOptions,
} from '@gemma3n/core';
import { mergeSessionOptions, type NodeBackendOptions, validateNodeBackendOptions } from './node-session-options';

export const nodeBackendName = 'node';

/**
 * A Backend over onnxruntime-node. A model given as a path is opened by onnxruntime itself,
 * which also finds its `.onnx_data` files next to it, so no weights pass through JS memory.
 * onnxruntime-node has no `externalData` option for models given as bytes, so bytes with
 * external data are written to a private temporary folder (file-path entries are hard-linked, or
 * copied across filesystems), loaded from there, and the folder removed once the session exists.
 */
export function createNodeBackend(options: NodeBackendOptions = {}): Backend {
  validateNodeBackendOptions(options);
  return {
    name: nodeBackendName,
    isAvailable: () => typeof process !== 'undefined' && process.versions?.node !== undefined,
    async createSession(model: ModelSource, callOptions?: SessionOptions): Promise<InferenceSession> {
      const sessionOptions = mergeSessionOptions(options, callOptions);
      if (model.type === 'path') return createFromPath(model.path, sessionOptions);
      if (model.type === 'bytes') {
        if (model.externalData === undefined || model.externalData.length === 0) {
          return wrapLoad(model.name ?? '(bytes)', () => ort.InferenceSession.create(model.bytes, sessionOptions));
        }
        return createFromStagedFiles(model.bytes, model.externalData, model.name, sessionOptions);
      }
      throw new InputError({ field: 'model.type', value: (model as { type: unknown }).type, expected: '"path" or "bytes"' });
    },
  };
}

async function createFromPath(path: string, sessionOptions: SessionOptions): Promise<InferenceSession> {
  const absolute = resolve(path);
  await requireFile(absolute, path);
  return wrapLoad(path, () => ort.InferenceSession.create(absolute, sessionOptions));
}

async function createFromStagedFiles(
  bytes: Uint8Array,
  externalData: readonly ExternalDataEntry[],
  name: string | undefined,
  sessionOptions: SessionOptions,
): Promise<InferenceSession> {
  const folder = await mkdtemp(join(tmpdir(), 'gemma3n-ort-'));
  try {
    const modelPath = join(folder, 'model.onnx');
    await writeFile(modelPath, bytes);
    for (const entry of externalData) {
      // Initializers name their data file relative to the model; keep that layout.
      const target = join(folder, entry.path);
      if (!target.startsWith(folder)) {
        throw new InputError({ field: 'externalData.path', value: entry.path, expected: 'a path inside the model folder' });
      }
      if (dirname(target) !== folder) await mkdirFor(target);
      if (typeof entry.data === 'string') {
        await requireFile(resolve(entry.data), entry.data);
        // onnxruntime rejects symlinks that leave the model folder; a hard link costs nothing,
        // a copy is the fallback across filesystems.
        await link(resolve(entry.data), target).catch(() => copyFile(resolve(entry.data as string), target));
      } else {
        await writeFile(target, entry.data);
      }
    }
    return await wrapLoad(name ?? '(bytes)', () => ort.InferenceSession.create(modelPath, sessionOptions));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function mkdirFor(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
}

async function requireFile(absolute: string, shownPath: string): Promise<void> {
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new ModelFileError({ path: shownPath, problem: 'unreadable', message: `Model file "${shownPath}" is not a file` });
  } catch (error) {
    if (ModelFileError.isInstance(error)) throw error;
    throw new ModelFileError({ path: shownPath, problem: 'missing', cause: error });
  }
}

async function wrapLoad(name: string, load: () => Promise<InferenceSession>): Promise<InferenceSession> {
  try {
    return await load();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendError({
      message: `onnxruntime-node could not load "${name}"`,
      failures: [{ backend: nodeBackendName, reason, cause: error }],
      cause: error,
    });
  }
}
