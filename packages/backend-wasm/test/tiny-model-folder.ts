import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGemma3nConfig } from '@gemma3n/core';
import { makeTinyModel, randomCheckpointWeights, TINY_TEXT_SHAPES } from '@gemma3n/convert';
import { argmax } from '@gemma3n/decoder';
import { referenceForward } from '@gemma3n/reference';
import { referenceGreedyTokens } from '@gemma3n/test-support';

export type TinyShapeName = keyof typeof TINY_TEXT_SHAPES;

/** A fresh tiny converted model folder (`makeTinyModel`) and a function that removes it. */
export async function makeTinyModelFolder(shape: TinyShapeName, seed: number): Promise<{ folder: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'gemma3n-backend-wasm-test-'));
  const folder = join(root, `${shape}-seed-${seed}`);
  await makeTinyModel(folder, { shape, seed, overwrite: true });
  return { folder, remove: () => rm(root, { recursive: true, force: true }) };
}

/**
 * Greedy continuation of `promptIds` from the float64 reference forward pass over the same
 * random checkpoint the converter wrote (as the decoder's own conformance test computes it).
 */
export function tinyModelGreedyTokens(shape: TinyShapeName, seed: number, promptIds: readonly number[], count: number): number[] {
  const rawConfig = TINY_TEXT_SHAPES[shape] as Record<string, unknown>;
  return referenceGreedyTokens({ rawConfig, seed, promptIds, count, parseGemma3nConfig, randomCheckpointWeights, referenceForward, argmax });
}
