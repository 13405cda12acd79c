import { Worker } from 'node:worker_threads';

/**
 * Read bandwidth of this machine's memory, for "what share of it does decode reach": every
 * thread compares two equal buffers far larger than the caches (memcmp reads both, with the
 * C library's vector code, so the loop is not what limits it) and the bytes read by all
 * threads are divided by the wall time. One thread per core, as decode uses them. The best of
 * several trials is kept: other processes can only make a trial slower, never faster.
 */
export async function measureReadBandwidth(options: { threads: number; bytesPerBuffer?: number; rounds?: number; trials?: number }): Promise<number> {
  let best = 0;
  for (let trial = 0; trial < (options.trials ?? 5); trial++) best = Math.max(best, await measureOnce(options));
  return best;
}

async function measureOnce(options: { threads: number; bytesPerBuffer?: number; rounds?: number }): Promise<number> {
  const bytesPerBuffer = options.bytesPerBuffer ?? 256 * 1024 * 1024;
  const rounds = options.rounds ?? 2;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = Buffer.alloc(workerData.bytes, 1);
    const b = Buffer.alloc(workerData.bytes, 1);
    a.compare(b); // touch every page once before timing
    parentPort.postMessage('ready');
    parentPort.once('message', () => {
      let equal = 0;
      for (let round = 0; round < workerData.rounds; round++) equal += a.compare(b) === 0 ? 1 : 0;
      parentPort.postMessage(equal);
    });
  `;
  const workers = Array.from({ length: options.threads }, () => new Worker(source, { eval: true, workerData: { bytes: bytesPerBuffer, rounds } }));
  try {
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
    const start = performance.now();
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise((resolve) => {
            worker.once('message', resolve);
            worker.postMessage('go');
          }),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    return (options.threads * rounds * 2 * bytesPerBuffer) / seconds;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
