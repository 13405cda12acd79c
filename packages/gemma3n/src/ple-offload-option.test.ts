import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, InputError, ModelFileError } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { offloadPerLayerEmbeddings } from '@gemma3n/convert';
import { tinyModelFolder } from '../test/tiny-model-folder';
import { createGemma3n } from './gemma3n';
import { Gemma3n } from './node';

/**
 * `pleOffload` reaches the loader from both entries: `createGemma3n({ pleOffload })` and
 * `Gemma3n.load(dir, { pleOffload })`. The tiny table (a few hundred KiB) is below the 64 MiB
 * `'auto'` threshold, so `'auto'` keeps it in the graph and only `true` offloads it.
 */
let root: string;
let plainFolder: string;
let offloadFolder: string;
const inner = createNodeBackend({ intraOpNumThreads: 1 });
const opened: string[] = [];
/** The node backend, recording the file of every session it opens. */
const backend: Backend = {
  name: 'recording-node',
  isAvailable: () => inner.isAvailable(),
  createSession: (model, options) => {
    opened.push(model.type === 'path' ? model.path : (model.name ?? 'bytes'));
    return inner.createSession(model, options);
  },
};
const request = { promptIds: [2, 40, 41, 42, 43], temperature: 0, maxNewTokens: 6, stopTokenIds: [] };

/** The embed file each load opened, relative to its folder. */
function embedFilesOpened(): string[] {
  return opened.filter((path) => /embed_tokens/.test(path)).map((path) => path.slice(path.lastIndexOf('onnx/')));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma3n-ple-option-'));
  plainFolder = await tinyModelFolder('tiny-window-4', 11);
  offloadFolder = join(root, 'offloaded');
  await cp(plainFolder, offloadFolder, { recursive: true });
  await offloadPerLayerEmbeddings(offloadFolder);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the pleOffload option', () => {
  it('Gemma3n.load and createGemma3n both pass it to the loader: true reads the table file, false and auto (small table) keep the graph', async () => {
    const tokens: Record<string, number[]> = {};
    for (const [label, load] of [
      ['load true', () => Gemma3n.load(offloadFolder, { backend, pleOffload: true })],
      ['create true', () => createGemma3n({ backend, files: new NodeDirectoryModelFiles(offloadFolder), pleOffload: true })],
      ['load false', () => Gemma3n.load(offloadFolder, { backend, pleOffload: false })],
      ['create false', () => createGemma3n({ backend, files: new NodeDirectoryModelFiles(offloadFolder), pleOffload: false })],
      ['create auto', () => createGemma3n({ backend, files: new NodeDirectoryModelFiles(offloadFolder) })],
    ] as const) {
      opened.length = 0;
      const model = await load();
      expect([label, embedFilesOpened()]).toEqual([label, [label.endsWith('true') ? 'onnx/embed_tokens_text.onnx' : 'onnx/embed_tokens.onnx']]);
      tokens[label] = (await model.generate(request)).tokenIds;
    }
    // The fp32 table file copies the graph's values, so every load gives the same greedy tokens.
    for (const label of Object.keys(tokens)) expect(tokens[label]).toEqual(tokens['load false']);
  });

  it('true on a folder without the table file is a ModelFileError saying how to make it; another value is an InputError', async () => {
    for (const load of [
      () => Gemma3n.load(plainFolder, { backend, pleOffload: true }),
      () => createGemma3n({ backend, files: new NodeDirectoryModelFiles(plainFolder), pleOffload: true }),
    ]) {
      await expect(load()).rejects.toSatisfy((error: unknown) => ModelFileError.isInstance(error) && /gemma3n offload-ple/.test((error as Error).message));
    }
    await expect(Gemma3n.load(plainFolder, { backend, pleOffload: 'yes' as unknown as boolean })).rejects.toSatisfy(
      (error: unknown) => InputError.isInstance(error) && (error as InputError).field === 'pleOffload' && /expected 'auto', true or false/.test((error as Error).message),
    );
  });
});
