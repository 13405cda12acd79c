import { Tensor, type InferenceSession } from 'onnxruntime-common';
import type { GpuAdapterLike, NavigatorWithGpu } from '../src/webgpu-adapter';

/** A navigator whose `gpu.requestAdapter` answers with `adapter` (or null / an error). */
export function fakeNavigator(adapter: GpuAdapterLike | null | Error): NavigatorWithGpu & { requests: unknown[] } {
  const requests: unknown[] = [];
  return {
    requests,
    gpu: {
      async requestAdapter(options) {
        requests.push(options);
        if (adapter instanceof Error) throw adapter;
        return adapter;
      },
    },
  };
}

export function fakeAdapter(features: string[], info: GpuAdapterLike['info'] = {}): GpuAdapterLike {
  return {
    features: new Set(features),
    limits: { maxBufferSize: 4294967296, maxStorageBufferBindingSize: 1073741824, maxComputeWorkgroupSizeX: 256 },
    info,
  };
}

/** A GPU tensor as onnxruntime-web returns it, backed here by CPU values; counts disposals. */
export function fakeGpuTensor(values: Float32Array, dims: readonly number[], disposed: { count: number }): Tensor {
  return Tensor.fromGpuBuffer({ size: values.byteLength, fake: true } as never, {
    dataType: 'float32',
    dims,
    download: async () => values.slice(),
    dispose: () => {
      disposed.count++;
    },
  });
}

/** The CPU values behind a fake GPU tensor, or a CPU tensor's data. */
export async function valuesOf(tensor: Tensor): Promise<Float32Array> {
  return tensor.location === 'cpu' ? (tensor.data as Float32Array) : ((await tensor.getData()) as Float32Array);
}

/**
 * A session with the cache contract of `kvCacheSelfTestModel` (present = past ++ step, logits
 * = sum over positions) that returns `present.0.key` as a fake GPU tensor, as onnxruntime-web
 * does with `preferredOutputLocation: 'gpu-buffer'`. `forgetPast` makes a broken engine.
 */
export function fakeGpuCacheSession(disposed: { count: number }, behaviour: { forgetPast?: boolean } = {}): InferenceSession & { runs: number } {
  const session = {
    runs: 0,
    inputNames: ['step', 'past_key_values.0.key'],
    outputNames: ['present.0.key', 'logits'],
    inputMetadata: [],
    outputMetadata: [],
    async run(feeds: Record<string, Tensor>) {
      session.runs++;
      const past = behaviour.forgetPast ? new Float32Array(0) : await valuesOf(feeds['past_key_values.0.key']!);
      const step = await valuesOf(feeds.step!);
      const present = new Float32Array([...past, ...step]);
      const positions = present.length / 2;
      const sums = [0, 0];
      for (let position = 0; position < positions; position++) {
        sums[0]! += present[position * 2]!;
        sums[1]! += present[position * 2 + 1]!;
      }
      return {
        'present.0.key': fakeGpuTensor(present, [1, 1, positions, 2], disposed),
        logits: new Tensor('float32', Float32Array.from(sums), [1, 1, 1, 2]),
      };
    },
    async release() {},
    startProfiling() {},
    endProfiling() {},
  };
  return session as unknown as InferenceSession & { runs: number };
}
