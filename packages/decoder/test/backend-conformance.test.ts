import { describe, expect, it } from 'vitest';
import { Tensor } from 'onnxruntime-common';
import { type Backend, parseGemma3nConfig } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { randomCheckpointWeights, TINY_TEXT_SHAPES } from '@gemma3n/convert';
import { referenceForward } from '@gemma3n/reference';
import { withoutFilesystem } from '@gemma3n/test-models';
import { referenceGreedyTokens } from '@gemma3n/test-support';
import { argmax } from '../src/sampling/logits-processing';
import { runBackendConformance } from '../src/testing';
import { tinyModelFolder } from './tiny-model-folder';

const shape = 'tiny-window-4';
const seed = 7;
const promptIds = [2, 17, 250, 33, 5, 99, 140, 61];
const node = createNodeBackend({ intraOpNumThreads: 1 });

function referenceGreedy(count: number): number[] {
  const rawConfig = TINY_TEXT_SHAPES[shape] as Record<string, unknown>;
  return referenceGreedyTokens({ rawConfig, seed, promptIds, count, parseGemma3nConfig, randomCheckpointWeights, referenceForward, argmax });
}

/** A broken engine for the negative test: its decoder ignores the past it is given. */
const forgetfulBackend: Backend = {
  name: 'forgetful',
  isAvailable: () => true,
  async createSession(model, options) {
    const session = await node.createSession(model, options);
    const run = session.run.bind(session);
    const forgetfulRun = (feeds: Record<string, Tensor>) => {
      if (feeds.attention_mask === undefined) return run(feeds);
      const newLength = feeds.inputs_embeds!.dims[1]!;
      const amnesic: Record<string, Tensor> = { ...feeds, attention_mask: new Tensor('int64', new BigInt64Array(newLength).fill(1n), [1, newLength]) };
      for (const [name, tensor] of Object.entries(feeds)) {
        if (name.startsWith('past_key_values.')) amnesic[name] = new Tensor('float32', new Float32Array(0), [1, tensor.dims[1]!, 0, tensor.dims[3]!]);
      }
      return run(amnesic);
    };
    return Object.assign(session, { run: forgetfulRun });
  },
};

describe('backend conformance suite', () => {
  const expectedGreedyTokens = referenceGreedy(12);

  it('passes on onnxruntime-node, for path models and byte models alike', async () => {
    const disk = new NodeDirectoryModelFiles(await tinyModelFolder(shape, seed));
    for (const files of [disk, withoutFilesystem(disk)]) {
      const results = await runBackendConformance({ backend: node, files, promptIds, expectedGreedyTokens });
      expect(results.filter((result) => !result.passed)).toEqual([]);
      expect(results).toHaveLength(5);
    }
  });

  it('fails, with reasons, on a backend that loses the cache', async () => {
    const files = new NodeDirectoryModelFiles(await tinyModelFolder(shape, seed));
    const results = await runBackendConformance({ backend: forgetfulBackend, files, promptIds, expectedGreedyTokens });
    const failed = results.filter((result) => !result.passed);
    expect(failed.map((result) => result.name)).toEqual([
      'greedy tokens equal the reference forward pass',
      'prefill in pieces equals prefill in one piece',
      'a cache cut back to a prefix continues like a fresh one',
      'present tensors grow by the tokens fed',
    ]);
    expect(failed[0]!.detail).toMatch(/^got \[.*\], expected \[/);
  });
});
