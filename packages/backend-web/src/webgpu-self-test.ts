import { Tensor } from 'onnxruntime-common';
import type { Backend } from '@gemma3n/core';
import { kvCacheSelfTestModel } from './onnx-model-encoding';
import type { WebGpuAdapterReport } from './webgpu-adapter';

export interface WebGpuSelfTestParams {
  /** Default: a fresh `createWebGpuBackend()` (the caller passes its own to test its options). */
  backend: Backend & { adapter?(): WebGpuAdapterReport | undefined };
  /** Whether `present.*` must come back as GPU buffers (true for the WebGPU backend's default). */
  expectKvOnGpu?: boolean;
}

export interface WebGpuSelfTestResult {
  passed: boolean;
  /** One line per check, `ok …` or `FAILED …`. */
  checks: string[];
  adapter: WebGpuAdapterReport | undefined;
  milliseconds: number;
}

/**
 * A browser-side check of the cache contract on the GPU, independent of Gemma's ops: a
 * one-layer model concatenates each step onto its past and sums the positions, and three
 * steps are run feeding each `present.0.key` back as `past_key_values.0.key` — as the decoder
 * runtime does. It checks that the present stays on the GPU, that logits come back on the CPU
 * with the running sums (wrong if the past fed back were lost or stale), that consumed pasts
 * are released, and that the final cache downloads to the six values fed. Framework-free, for
 * a Playwright page to call and report.
 */
export async function runWebGpuSelfTest(params: WebGpuSelfTestParams): Promise<WebGpuSelfTestResult> {
  const started = performance.now();
  const checks: string[] = [];
  const check = (condition: boolean, text: string) => checks.push(`${condition ? 'ok' : 'FAILED'} ${text}`);
  const expectKvOnGpu = params.expectKvOnGpu ?? true;
  try {
    const session = await params.backend.createSession({ type: 'bytes', bytes: kvCacheSelfTestModel(), name: 'kv-cache-self-test.onnx' });
    const steps = [[1, 2], [10, 20], [100, 200]];
    let past: Tensor = new Tensor('float32', new Float32Array(0), [1, 1, 0, 2]);
    const sums = [0, 0];
    for (const [index, values] of steps.entries()) {
      const outputs = await session.run({ step: new Tensor('float32', Float32Array.from(values), [1, 1, 1, 2]), 'past_key_values.0.key': past });
      const present = outputs['present.0.key']!;
      const logits = outputs.logits!;
      sums[0]! += values[0]!;
      sums[1]! += values[1]!;
      check(present.location === (expectKvOnGpu ? 'gpu-buffer' : 'cpu'), `step ${index}: present.0.key on ${present.location}`);
      check(present.dims.join() === `1,1,${index + 1},2`, `step ${index}: present.0.key dims [${present.dims.join(', ')}]`);
      const got = logits.location === 'cpu' ? Array.from(logits.data as Float32Array) : [];
      check(logits.location === 'cpu' && got.join() === sums.join(), `step ${index}: logits on ${logits.location} = [${got.join(', ')}], expected [${sums.join(', ')}]`);
      past = present;
    }
    const live = (session as { liveGpuTensorCount?: number }).liveGpuTensorCount;
    if (expectKvOnGpu) check(live === 1, `GPU tensors alive after 3 steps: ${live} (consumed pasts released)`);
    const cache = Array.from((await past.getData()) as Float32Array);
    check(cache.join() === steps.flat().join(), `downloaded cache [${cache.join(', ')}]`);
    await session.release();
    if (expectKvOnGpu) check((session as { liveGpuTensorCount?: number }).liveGpuTensorCount === 0, 'release() frees the last cache');
  } catch (error) {
    check(false, `threw ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    passed: checks.every((line) => line.startsWith('ok')),
    checks,
    adapter: params.backend.adapter?.(),
    milliseconds: Math.round(performance.now() - started),
  };
}
