import { expect, it } from 'vitest';
import { listBackends, resolveBackend } from '@gemma3n/core';

it('the register entry adds the wasm backend at priority 1, and it resolves in Node', async () => {
  await import('../src/register');
  expect(listBackends()).toEqual([{ name: 'wasm', priority: 1, status: 'registered' }]);
  const backend = await resolveBackend(['wasm']);
  expect(backend.name).toBe('wasm');
  expect(listBackends()[0]?.status).toBe('ready');
});
