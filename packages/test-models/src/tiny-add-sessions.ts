import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, type InferenceSession } from 'onnxruntime-common';
import type { Backend } from '@gemma3n/core';
import { tinyAddModel } from './tiny-add-model';

/** Y of the tiny Add model for X = [10, 20, 30]: [11, 22, 33] when the weights loaded. */
export async function runTinyAdd(session: InferenceSession): Promise<number[]> {
  const output = await session.run({ X: new Tensor('float32', Float32Array.from([10, 20, 30]), [1, 3]) });
  return Array.from(output.Y!.data as Float32Array);
}

/**
 * A fresh temp folder (name starting with `prefix`) holding `inline.onnx`, and `external.onnx`
 * with its weights in `external.onnx_data`. The caller removes it.
 */
export async function writeTinyAddFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(folder, 'inline.onnx'), tinyAddModel().model);
  const external = tinyAddModel('external.onnx_data');
  await writeFile(join(folder, 'external.onnx'), external.model);
  await writeFile(join(folder, 'external.onnx_data'), external.externalData);
  return folder;
}

/**
 * The tiny Add model given as bytes three ways: weights inline, external data as bytes, and
 * external data as the path of `external.onnx_data` in a `writeTinyAddFolder` folder.
 */
export async function runTinyAddFromBytes(
  backend: Backend,
  folder: string,
): Promise<{ inline: number[]; externalDataBytes: number[]; externalDataPath: number[] }> {
  const inline = await runTinyAdd(await backend.createSession({ type: 'bytes', bytes: tinyAddModel().model }));
  const external = tinyAddModel('weights/w.bin');
  const fromBytes = await backend.createSession({
    type: 'bytes', bytes: external.model, externalData: [{ path: 'weights/w.bin', data: external.externalData }],
  });
  const named = tinyAddModel('external.onnx_data');
  const fromPath = await backend.createSession({
    type: 'bytes', bytes: named.model, externalData: [{ path: 'external.onnx_data', data: join(folder, 'external.onnx_data') }],
  });
  return { inline, externalDataBytes: await runTinyAdd(fromBytes), externalDataPath: await runTinyAdd(fromPath) };
}

/** What `createSession` rejects with for a model named `onnx/decoder_model_merged.onnx` whose external data is absent. */
export function refusedModelError(backend: Backend): Promise<unknown> {
  const external = tinyAddModel('absent.onnx_data');
  return backend
    .createSession({ type: 'bytes', bytes: external.model, name: 'onnx/decoder_model_merged.onnx' })
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
}
