import { Tensor } from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import { KvCache } from './kv-cache';

/** A past tensor [1, 1, length, 2] whose row t holds (t, t + 0.5). */
function rows(length: number): Float32Array {
  return Float32Array.from({ length: length * 2 }, (_, index) => Math.floor(index / 2) + (index % 2) * 0.5);
}

function gpuTensor(length: number, log: string[]): Tensor {
  // A stand-in GPU buffer: onnxruntime only hands it to the download and dispose callbacks.
  return Tensor.fromGpuBuffer({ size: length * 8 } as never, {
    dataType: 'float32',
    dims: [1, 1, length, 2],
    download: async () => {
      log.push('download');
      return rows(length);
    },
    dispose: () => log.push('dispose'),
  });
}

describe('KvCache', () => {
  it('truncates CPU tensors at once along the sequence axis', () => {
    const cache = new KvCache();
    cache.tokenIds.push(1, 2, 3, 4);
    cache.tensors.set('past_key_values.0.key', new Tensor('float32', rows(4), [1, 1, 4, 2]));
    cache.truncate(2);
    const cut = cache.tensors.get('past_key_values.0.key')!;
    expect(cut.dims).toEqual([1, 1, 2, 2]);
    expect([...(cut.data as Float32Array)]).toEqual([0, 0.5, 1, 1.5]);
    expect(cache.tokenIds).toEqual([1, 2]);
  });

  it('defers the cut of a GPU tensor to settle(), which downloads it once', async () => {
    const log: string[] = [];
    const cache = new KvCache();
    cache.tokenIds.push(5, 6, 7);
    cache.tensors.set('past_key_values.0.value', gpuTensor(3, log));
    cache.truncate(1);
    expect(log).toEqual([]); // nothing synchronous touched the GPU tensor
    await cache.settle();
    const cut = cache.tensors.get('past_key_values.0.value')!;
    expect(cut.location).toBe('cpu');
    expect(cut.dims).toEqual([1, 1, 1, 2]);
    expect([...(cut.data as Float32Array)]).toEqual([0, 0.5]);
    expect(log.filter((entry) => entry === 'download')).toHaveLength(1);
    await cache.settle(); // nothing pending any more
    expect(log.filter((entry) => entry === 'download')).toHaveLength(1);
  });

  it('disposes GPU tensors when cleared', () => {
    const log: string[] = [];
    const cache = new KvCache();
    cache.tokenIds.push(1);
    cache.tensors.set('past_key_values.0.key', gpuTensor(1, log));
    cache.clear();
    expect(log).toEqual(['dispose']);
    expect(cache.tensors.size).toBe(0);
    expect(cache.length).toBe(0);
  });
});
