import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_SHAPE_NAMES } from '../checkpoint/tiny-text-shapes';
import { onnx } from '../onnx/onnx-proto';
import { loadTinyTextGraphs, removeTinyTextGraphs, TextGraphChecks, WorstErrors, type TinyTextGraphs } from './text-graph-test-harness';

const errors = new WorstErrors();

describe.each(TINY_SHAPE_NAMES)('text graphs on %s', (name) => {
  let loaded: TinyTextGraphs;
  let checks: TextGraphChecks;

  beforeAll(async () => {
    const progress: string[] = [];
    // A 64 KiB data-file limit makes the decoder's weights span several external data files.
    loaded = await loadTinyTextGraphs(name, {
      maxExternalDataFileBytes: 64 * 1024,
      onProgress: (event) => progress.push(`${event.stage}:${event.done}/${event.total}`),
    });
    expect(progress.at(-1)).toMatch(/^decoder_model_merged:(\d+)\/\1$/);
    expect(progress.find((entry) => entry.startsWith('embed_tokens') && /:(\d+)\/\1$/.test(entry))).toBeDefined();
    checks = new TextGraphChecks(loaded, errors);
  });

  afterAll(() => removeTinyTextGraphs(loaded));

  it('writes the contract files, external data named <file>_data, <file>_data_1, …', async () => {
    const { directory, files } = loaded;
    const listed = (await readdir(directory)).sort();
    expect([...files].sort()).toEqual(listed);
    expect(files[0]).toBe('embed_tokens.onnx');
    expect(files).toContain('decoder_model_merged.onnx');
    expect(files).toContain('decoder_model_merged.onnx_data');
    expect(files).toContain('decoder_model_merged.onnx_data_1');
    for (const file of listed) expect(file).toMatch(/^(embed_tokens|decoder_model_merged)\.onnx(_data(_\d+)?)?$/);
    // Streaming means the model protos hold no weight bytes: every initializer of 1 KiB or
    // more lives in external data (int64 shape constants are small and stay inline).
    for (const file of ['embed_tokens.onnx', 'decoder_model_merged.onnx']) {
      const proto = onnx.ModelProto.decode(await readFile(join(directory, file)));
      expect(Number(proto.irVersion)).toBe(10);
      expect(proto.opsetImport!.map((opset) => `${opset.domain}:${Number(opset.version)}`)).toEqual([':21']);
      expect(proto.graph!.node!.every((node) => !node.domain)).toBe(true);
      const inlineLarge = proto.graph!.initializer!.filter((tensor) => (tensor.rawData?.length ?? 0) >= 1024).map((tensor) => tensor.name);
      expect(inlineLarge).toEqual([]);
      if (file === 'decoder_model_merged.onnx') {
        // KV-sharing consumers compute only q and o_proj: their checkpoint k_proj/v_proj/k_norm are not used.
        const names = proto.graph!.initializer!.map((tensor) => tensor.name!);
        const { numHiddenLayers, numKvSharedLayers } = loaded.model.config.text;
        for (let layer = 0; layer < numHiddenLayers; layer++) {
          const hasOwnKeys = names.includes(`/model/layers.${layer}/attn/k_proj/weight`);
          expect(hasOwnKeys, `layer ${layer} k_proj`).toBe(layer < numHiddenLayers - numKvSharedLayers);
          expect(names.includes(`/model/layers.${layer}/attn/q_proj/weight`)).toBe(true);
        }
      }
    }
  });

  it('declares the contract inputs and outputs, KV only for non-shared layers', () => checks.contractInputsAndOutputs());

  it('embed_tokens equals referenceEmbed, hard tokens and out-of-table PLE ids included', () => checks.embedTokens());

  it('decoder logits at every position equal referenceDecoder for a prompt longer than the window', () => checks.prefillAllPositions());

  it('num_logits_to_keep = 1 computes only the last position', () => checks.lastPositions());

  // Compat records, without asserting, the cached steps' error against the reference.
  it('cached step-by-step decoding equals the full recompute at every step', () => checks.cachedDecoding());

  it('chunked prefill (a second chunk on top of the cache) equals the one-piece prefill', () => checks.chunkedPrefill());

  it('batch 2 with left padding gives each row the logits of its unpadded sequence, in prefill and decode', () => checks.leftPaddedBatch());
});

afterAll(() => {
  console.log(errors.summary('text graphs vs reference'));
});
