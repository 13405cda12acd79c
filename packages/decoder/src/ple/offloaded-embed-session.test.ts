import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync as readFileNow } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, ModelFileError, parseGemma3nConfig } from '@gemma3n/core';
import { NodeDirectoryModelFiles } from '@gemma3n/core/node';
import { createNodeBackend } from '@gemma3n/backend-node';
import { offloadPerLayerEmbeddings } from '../../../convert/src/ple/index';
import { makeTinyModel } from '@gemma3n/convert';
import { generateTokens } from '../generation/generate-tokens';
import { loadDecoderRuntime, modelSourceOf } from '../loading/load-decoder-runtime';
import { DecoderRuntime } from '../runtime/decoder-runtime';
import { OffloadedEmbedSession, planPerLayerOffload } from './offloaded-embed-session';

const backend = createNodeBackend({ intraOpNumThreads: 1 });
const noText = { decode: () => '' };
const prompt = [2, 17, 250, 33, 5, 99, 140, 61, 17, 17];
let folder: string;

beforeAll(async () => {
  // A folder of our own: the shared tiny-model cache is rebuilt (and old versions deleted) by
  // whichever test run has a different converter, which would pull it away mid-test.
  folder = join(await mkdtemp(join(tmpdir(), 'ple-runtime-')), 'model');
  await makeTinyModel(folder, { shape: 'tiny-window-4', seed: 7 });
  await offloadPerLayerEmbeddings(folder, { embedFiles: ['onnx/embed_tokens.onnx'] });
});

afterAll(async () => {
  await rm(dirname(folder), { recursive: true, force: true });
});

describe('OffloadedEmbedSession in DecoderRuntime', () => {
  it('generates the same tokens and logits as the embed graph that holds the table', async () => {
    const files = new NodeDirectoryModelFiles(folder);
    const plain = await loadDecoderRuntime({ files, backend, prefillChunkSize: 4 });
    const plan = await planPerLayerOffload(files, plain.fileNames.embed_tokens, 'auto', { minimumTableBytes: 0 });
    expect(plan?.textEmbedFile).toBe('onnx/embed_tokens_text.onnx');
    const textSession = await backend.createSession(await modelSourceOf(files, plan!.textEmbedFile));
    const offloaded = new DecoderRuntime({
      embedSession: new OffloadedEmbedSession(textSession, plan!.table, plan!.textEmbedFile),
      decoderSession: await backend.createSession(await modelSourceOf(files, plain.fileNames.decoder_model_merged)),
      config: { ...plain.runtime.config },
      prefillChunkSize: 4,
    });
    const run = async (runtime: DecoderRuntime) => {
      const logits: Float32Array[] = [];
      const result = await generateTokens({
        model: runtime, cache: runtime.createCache(), promptIds: prompt, decoder: noText,
        options: { temperature: 0, maxNewTokens: 12, stopTokenIds: [], onLogits: (values) => logits.push(values.slice()) },
      });
      return { tokens: result.tokenIds, logits };
    };
    const expected = await run(plain.runtime);
    const actual = await run(offloaded);
    expect(actual.tokens).toEqual(expected.tokens);
    expect(new Set(actual.tokens).size).toBeGreaterThan(3);
    actual.logits.forEach((values, step) => expect(values, `step ${step}`).toEqual(expected.logits[step]));
    // Prefill in pieces of 4, then one row per generated token; 17 repeats across pieces.
    const stats = plan!.table.stats;
    expect(stats.cacheHits).toBeGreaterThan(0);
    expect(stats.rowsRead).toBe(new Set([...prompt, ...actual.tokens.slice(0, -1)]).size);
    await Promise.all([plain.runtime.release(), offloaded.release()]);
  });

  it('plans the offload from pleOffload and the files present', async () => {
    const files = new NodeDirectoryModelFiles(folder);
    // The tiny table (92 KB) is below the automatic threshold; false never offloads.
    expect(await planPerLayerOffload(files, 'onnx/embed_tokens.onnx')).toBeUndefined();
    expect(await planPerLayerOffload(files, 'onnx/embed_tokens.onnx', false, { minimumTableBytes: 0 })).toBeUndefined();
    expect((await planPerLayerOffload(files, 'onnx/embed_tokens.onnx', true))?.table.layout.rows).toBe(320);
    // Asked for, but the folder has no q8 companions: the error names them and the command.
    const error = await planPerLayerOffload(files, 'onnx/embed_tokens_quantized.onnx', true).catch((caught: unknown) => caught);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect((error as ModelFileError).message).toBe(
      `pleOffload: true needs onnx/embed_tokens_text_quantized.onnx and onnx/embed_tokens_per_layer_quantized.safetensors in ${folder}, ` +
        'beside onnx/embed_tokens_quantized.onnx; make them with `gemma3n offload-ple <folder>` (or pass pleOffload: false to keep the table in the embed graph)',
    );
    expect(parseGemma3nConfig(JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'))).text.vocabSizePerLayerInput).toBe(320);
    // Anything but 'auto', true or false is refused, not read as "offload".
    await expect(planPerLayerOffload(files, 'onnx/embed_tokens.onnx', 'on' as unknown as boolean)).rejects.toSatisfy(
      (caught: unknown) => InputError.isInstance(caught) && (caught as Error).message === `pleOffload is "on"; expected 'auto', true or false`,
    );
  });
});

describe('browser safety of ple/', () => {
  it('reaches no Node module from index.ts', () => {
    const sourceRoot = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const external = new Set<string>();
    const pending = [join(sourceRoot, 'index.ts')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const match of readFileNow(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
        const specifier = match[1]!;
        if (specifier.startsWith('.')) pending.push(`${join(dirname(file), specifier)}.ts`);
        else external.add(specifier);
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
    expect([...external].filter((specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier))).toEqual([]);
    expect([...external].sort()).toEqual(['@gemma3n/core', 'onnxruntime-common']);
  });
});
