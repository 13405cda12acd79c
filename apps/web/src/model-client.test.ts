import { describe, expect, it } from 'vitest';
import { ModelClient, type ModelWorkerLike } from './model-client';
import type { LoadedInfo, WorkerEvent, WorkerRequest } from './worker/worker-protocol';

/** A worker double: records what it was sent and answers only when the test says so. */
class FakeWorker implements ModelWorkerLike {
  readonly received: WorkerRequest[] = [];
  terminated = false;
  private readonly messageListeners: ((message: MessageEvent<WorkerEvent>) => void)[] = [];

  postMessage(message: WorkerRequest): void {
    this.received.push(structuredClone(message));
  }

  terminate(): void {
    this.terminated = true;
  }

  addEventListener(type: 'message' | 'error', listener: (event: never) => void): void {
    if (type === 'message') this.messageListeners.push(listener as (message: MessageEvent<WorkerEvent>) => void);
  }

  reply(event: WorkerEvent): void {
    for (const listener of this.messageListeners) listener({ data: event } as MessageEvent<WorkerEvent>);
  }
}

const loadedInfo: LoadedInfo = {
  backend: 'wasm',
  executionProvider: 'wasm',
  location: 'http://127.0.0.1/model/',
  store: 'opfs',
  downloadedBytes: 0,
  totalBytes: 10,
  loadMs: 1,
  vocabSize: 262_144,
  layers: 4,
};

function makeClient(): { client: ModelClient; workers: FakeWorker[] } {
  const workers: FakeWorker[] = [];
  const client = new ModelClient({ onEvent: () => undefined }, '/ort/', () => {
    const worker = new FakeWorker();
    workers.push(worker);
    return worker;
  });
  return { client, workers };
}

function answerCacheRequests(worker: FakeWorker): void {
  for (const request of worker.received) {
    if (request.type === 'list-cache' || request.type === 'clear-cache') worker.reply({ type: 'cache-list', id: request.id, store: 'opfs', models: [] });
  }
}

describe('ModelClient', () => {
  it('sends a cache request left unanswered by a replaced worker to the new one (the cached-reload hang)', async () => {
    const { client, workers } = makeClient();
    // The page lists the cache on start-up; the user presses Load before the worker answers.
    const startupListing = client.listCache();
    const load = client.load({ kind: 'url', baseUrl: 'http://127.0.0.1/model/' }, 'wasm');
    expect(workers).toHaveLength(2);
    expect(workers[0]!.terminated).toBe(true);
    const [first, second] = workers as [FakeWorker, FakeWorker];
    expect(second.received.map((request) => request.type)).toEqual(['list-cache', 'load']);
    // Anything the terminated worker still sends is ignored.
    answerCacheRequests(first);
    second.reply({ type: 'loaded', info: loadedInfo });
    await expect(load).resolves.toEqual(loadedInfo);
    // The listing after the load, and the one a user asks for later, each get their own answer.
    const afterLoad = client.listCache();
    const later = client.listCache();
    answerCacheRequests(second);
    await expect(Promise.all([startupListing, afterLoad, later])).resolves.toEqual([
      { store: 'opfs', models: [] },
      { store: 'opfs', models: [] },
      { store: 'opfs', models: [] },
    ]);
  });

  it('matches cache replies and errors to their requests by id, in any order', async () => {
    const { client, workers } = makeClient();
    const listing = client.listCache();
    const clearing = client.clearCache('http://127.0.0.1/model/');
    const worker = workers[0]!;
    const [listRequest, clearRequest] = worker.received as [Extract<WorkerRequest, { type: 'list-cache' }>, Extract<WorkerRequest, { type: 'clear-cache' }>];
    worker.reply({ type: 'error', id: clearRequest.id, during: 'cache', name: 'NotAllowedError', message: 'storage blocked' });
    worker.reply({ type: 'cache-list', id: listRequest.id, store: 'cache-api', models: [] });
    await expect(listing).resolves.toEqual({ store: 'cache-api', models: [] });
    await expect(clearing).rejects.toThrow('storage blocked');
  });

  it('rejects a load and a generation in flight when a new load replaces the worker', async () => {
    const { client } = makeClient();
    const first = client.load({ kind: 'url', baseUrl: 'http://127.0.0.1/a/' }, 'wasm');
    const { done } = client.generate('hi', [], { maxNewTokens: 4, greedy: true });
    void client.load({ kind: 'url', baseUrl: 'http://127.0.0.1/b/' }, 'webgpu');
    await expect(first).rejects.toThrow('replaced by a new load');
    await expect(done).rejects.toThrow('replaced by a new load');
  });
});
