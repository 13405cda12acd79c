import type { Backend, ModelFiles, SessionOptions } from '@gemma3n/core';
import { generateTokens, streamTokens } from '../generation/generate-tokens';
import { loadDecoderRuntime } from '../loading/load-decoder-runtime';
import type { DecoderRuntime } from '../runtime/decoder-runtime';

/**
 * The one conformance suite every backend runs, in its own runtime (Node, a browser page, a
 * worker): what the decoder needs from sessions, checked on a tiny model folder. It is
 * framework-free — each check returns passed/failed with a reason — so a browser harness can
 * run it as well as vitest.
 */
export interface BackendConformanceParams {
  backend: Backend;
  /** A tiny model folder (`makeTinyModel`), served however the backend's runtime reads files. */
  files: ModelFiles;
  sessionOptions?: SessionOptions;
  /** A prompt longer than the model's sliding window. */
  promptIds: readonly number[];
  /** Greedy tokens for `promptIds` from the reference forward pass (no stop tokens). */
  expectedGreedyTokens: readonly number[];
  /** Largest logit difference accepted between two ways of computing the same position. */
  logitTolerance?: number;
}

export interface ConformanceCheck {
  name: string;
  passed: boolean;
  detail: string;
}

type Check = (runtime: DecoderRuntime, params: BackendConformanceParams) => Promise<string>;

/** Throws with `detail` unless `condition` holds. */
function ensure(condition: boolean, detail: string): void {
  if (!condition) throw new Error(detail);
}

function maxDifference(left: Float32Array, right: Float32Array): number {
  let max = left.length === right.length ? 0 : Infinity;
  for (let index = 0; index < left.length; index++) max = Math.max(max, Math.abs(left[index]! - right[index]!));
  return max;
}

const noText = { decode: () => '' };

const checks: Record<string, Check> = {
  'greedy tokens equal the reference forward pass': async (runtime, params) => {
    const result = await generateTokens({
      model: runtime, cache: runtime.createCache(), promptIds: params.promptIds, decoder: noText,
      options: { temperature: 0, maxNewTokens: params.expectedGreedyTokens.length, stopTokenIds: [] },
    });
    ensure(
      result.tokenIds.join() === params.expectedGreedyTokens.join(),
      `got [${result.tokenIds.join(', ')}], expected [${params.expectedGreedyTokens.join(', ')}]`,
    );
    return `${result.tokenIds.length} tokens`;
  },
  'prefill in pieces equals prefill in one piece': async (runtime, params) => {
    const whole = await runtime.forward(params.promptIds, runtime.createCache());
    const cache = runtime.createCache();
    const split = Math.max(1, Math.floor(params.promptIds.length / 2));
    await runtime.forward(params.promptIds.slice(0, split), cache);
    const pieced = await runtime.forward(params.promptIds.slice(split), cache);
    const difference = maxDifference(whole, pieced);
    ensure(difference <= (params.logitTolerance ?? 1e-4), `max logit difference ${difference}`);
    return `max logit difference ${difference.toExponential(2)}`;
  },
  'a cache cut back to a prefix continues like a fresh one': async (runtime, params) => {
    const whole = await runtime.forward(params.promptIds, runtime.createCache());
    const cache = runtime.createCache();
    const keep = Math.max(1, params.promptIds.length - 2);
    await runtime.forward([...params.promptIds.slice(0, keep), 3, 4, 5], cache);
    cache.truncate(keep);
    const refilled = await runtime.forward(params.promptIds.slice(keep), cache);
    const difference = maxDifference(whole, refilled);
    ensure(difference <= (params.logitTolerance ?? 1e-4), `max logit difference ${difference}`);
    return `max logit difference ${difference.toExponential(2)}`;
  },
  'present tensors grow by the tokens fed': async (runtime, params) => {
    const cache = runtime.createCache();
    await runtime.forward(params.promptIds, cache);
    await runtime.forward([params.promptIds[0]!], cache);
    for (const [name, tensor] of cache.tensors) {
      ensure(tensor.dims[2] === params.promptIds.length + 1, `${name} has ${tensor.dims[2]} positions, expected ${params.promptIds.length + 1}`);
    }
    return `${cache.tensors.size} cache tensors`;
  },
  'an abort stops generation within one step': async (runtime, params) => {
    const controller = new AbortController();
    const cache = runtime.createCache();
    const stream = streamTokens({
      model: runtime, cache, promptIds: params.promptIds, decoder: noText,
      options: { temperature: 0, maxNewTokens: 16, stopTokenIds: [], signal: controller.signal },
    });
    let received = 0;
    try {
      for await (const _delta of stream) if (++received === 2) controller.abort();
      throw new Error('generation finished despite the abort');
    } catch (error) {
      ensure((error as { name?: string }).name === 'AbortError', `rejected with ${String(error)}`);
    }
    ensure(cache.length === params.promptIds.length + 1, `fed ${cache.length - params.promptIds.length} tokens after the prompt, expected 1`);
    return 'stopped after 2 tokens';
  },
};

/** Runs every check; a load failure fails them all with its reason. */
export async function runBackendConformance(params: BackendConformanceParams): Promise<ConformanceCheck[]> {
  let runtime: DecoderRuntime;
  try {
    ({ runtime } = await loadDecoderRuntime({ files: params.files, backend: params.backend, sessionOptions: params.sessionOptions }));
  } catch (error) {
    const detail = `loading failed: ${error instanceof Error ? error.message : String(error)}`;
    return Object.keys(checks).map((name) => ({ name, passed: false, detail }));
  }
  const results: ConformanceCheck[] = [];
  for (const [name, check] of Object.entries(checks)) {
    try {
      results.push({ name, passed: true, detail: await check(runtime, params) });
    } catch (error) {
      results.push({ name, passed: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  await runtime.release();
  return results;
}
