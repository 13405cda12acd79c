import type { InferenceSession } from 'onnxruntime-common';
import { describe, expect, it } from 'vitest';
import { BackendError } from '../errors/backend-error';
import { InputError } from '../errors/input-error';
import type { Backend, ModelSource } from './backend';
import { BackendRegistry, sharedBackendRegistry } from './backend-registry';

interface FakeBackend extends Backend {
  initCalls: number;
  availabilityChecks: number;
}

/** A backend whose availability and init outcome the test decides. */
function fakeBackend(
  name: string,
  behaviour: { available?: boolean; initError?: Error; initDelayMs?: number } = {},
): FakeBackend {
  const backend: FakeBackend = {
    name,
    initCalls: 0,
    availabilityChecks: 0,
    isAvailable() {
      backend.availabilityChecks++;
      return behaviour.available ?? true;
    },
    async init() {
      backend.initCalls++;
      if (behaviour.initDelayMs !== undefined) {
        await new Promise((resolve) => setTimeout(resolve, behaviour.initDelayMs));
      }
      if (behaviour.initError !== undefined) throw behaviour.initError;
    },
    async createSession(model: ModelSource): Promise<InferenceSession> {
      throw new Error(`${name} cannot run ${model.type} models: it is a registry test double`);
    },
  };
  return backend;
}

async function backendErrorOf(promise: Promise<unknown>): Promise<BackendError> {
  try {
    await promise;
  } catch (error) {
    if (BackendError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BackendError, but the promise resolved');
}

describe('BackendRegistry', () => {
  it('resolves the highest priority backend first, equal priorities in registration order', async () => {
    const registry = new BackendRegistry();
    const low = fakeBackend('low');
    const high = fakeBackend('high');
    const alsoHigh = fakeBackend('also-high');
    registry.register('low', low, 1);
    registry.register('high', high, 10);
    registry.register('also-high', alsoHigh, 10);
    expect(await registry.resolve()).toBe(high);
    expect(registry.list().map((info) => info.name)).toEqual(['high', 'also-high', 'low']);
    // Lower-priority backends are not touched when a higher one works.
    expect(low.initCalls).toBe(0);
  });

  it('follows the order of explicitly requested names', async () => {
    const registry = new BackendRegistry();
    const wasm = fakeBackend('wasm');
    registry.register('webgpu', fakeBackend('webgpu'), 10);
    registry.register('wasm', wasm, 1);
    expect(await registry.resolve(['wasm', 'webgpu'])).toBe(wasm);
  });

  it('falls back past unavailable and failing backends and remembers their failures', async () => {
    const registry = new BackendRegistry();
    const missing = fakeBackend('webgpu', { available: false });
    const broken = fakeBackend('wasm', { initError: new Error('wasm file not found') });
    const cpu = fakeBackend('cpu');
    registry.register('webgpu', missing, 3);
    registry.register('wasm', broken, 2);
    registry.register('cpu', cpu, 1);
    expect(await registry.resolve()).toBe(cpu);
    expect(await registry.resolve()).toBe(cpu);
    expect(broken.initCalls).toBe(1);
    expect(missing.availabilityChecks).toBe(1);
    expect(cpu.initCalls).toBe(1);
    expect(registry.list()).toEqual([
      { name: 'webgpu', priority: 3, status: 'failed', failureReason: 'not available in this environment' },
      { name: 'wasm', priority: 2, status: 'failed', failureReason: 'initialisation failed: wasm file not found' },
      { name: 'cpu', priority: 1, status: 'ready' },
    ]);
  });

  it('initialises once for concurrent resolve calls', async () => {
    const registry = new BackendRegistry();
    const slow = fakeBackend('slow', { initDelayMs: 20 });
    registry.register('slow', slow, 0);
    const pending = [registry.resolve(), registry.resolve(), registry.resolve(['slow'])];
    expect(registry.list()[0]?.status).toBe('initializing');
    const resolved = await Promise.all(pending);
    expect(resolved).toEqual([slow, slow, slow]);
    expect(slow.initCalls).toBe(1);
    expect(registry.list()[0]?.status).toBe('ready');
  });

  it('shares one failed init between concurrent callers and reports it to both', async () => {
    const registry = new BackendRegistry();
    const failing = fakeBackend('gpu', { initDelayMs: 10, initError: new Error('adapter lost') });
    registry.register('gpu', failing, 0);
    const [first, second] = await Promise.all([
      backendErrorOf(registry.resolve()),
      backendErrorOf(registry.resolve()),
    ]);
    expect(failing.initCalls).toBe(1);
    expect(first.failures).toEqual(second.failures);
    expect(first.failures[0]?.reason).toBe('initialisation failed: adapter lost');
  });

  it('lists every reason when no backend works', async () => {
    const registry = new BackendRegistry();
    const cause = new Error('no SharedArrayBuffer');
    registry.register('webgpu', fakeBackend('webgpu', { available: false }), 2);
    registry.register('wasm', fakeBackend('wasm', { initError: cause }), 1);
    const error = await backendErrorOf(registry.resolve(['webgpu', 'wasm', 'cuda']));
    expect(error.message).toBe(
      'No usable backend: [webgpu] not available in this environment; ' +
        '[wasm] initialisation failed: no SharedArrayBuffer; ' +
        '[cuda] not registered (registered: webgpu, wasm)',
    );
    expect(error.failures.map((failure) => failure.backend)).toEqual(['webgpu', 'wasm', 'cuda']);
    expect(error.failures[1]?.cause).toBe(cause);
  });

  it('says how to fix an empty registry', async () => {
    const error = await backendErrorOf(new BackendRegistry().resolve());
    expect(error.message).toContain('No backend is registered');
    expect(error.failures).toEqual([]);
  });

  it('keeps the higher priority registration of a name and rejects conflicts', () => {
    const registry = new BackendRegistry();
    const first = fakeBackend('cpu');
    const second = fakeBackend('cpu');
    registry.register('cpu', first, 5);
    registry.register('cpu', second, 1);
    registry.register('cpu', first, 5);
    expect(registry.list()).toEqual([{ name: 'cpu', priority: 5, status: 'registered' }]);
    expect(() => registry.register('cpu', second, 5)).toThrow(InputError);
    registry.register('cpu', second, 9);
    expect(registry.list()[0]?.priority).toBe(9);
  });

  it('rejects what is not a backend', () => {
    const registry = new BackendRegistry();
    expect(() => registry.register('x', { name: 'x' } as unknown as Backend, 0)).toThrow(InputError);
    expect(() => registry.register('', fakeBackend('y'), 0)).toThrow(/name is ""/);
    expect(() => registry.register('z', fakeBackend('z'), Number.NaN)).toThrow(/priority is NaN/);
  });
});

describe('sharedBackendRegistry', () => {
  it('is one registry per realm, kept on globalThis', () => {
    const registry = sharedBackendRegistry();
    expect(sharedBackendRegistry()).toBe(registry);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('gemma3n.backend-registry')]).toBe(registry);
  });
});
