import { expect, it } from 'vitest';
import { BackendError, listBackends, resolveBackend } from '@gemma3n/core';

it('the register entry adds the webgpu backend at priority 5; without navigator.gpu it is refused with the reason', async () => {
  await import('../src/register');
  expect(listBackends()).toEqual([{ name: 'webgpu', priority: 5, status: 'registered' }]);
  const error = await resolveBackend().catch((caught: unknown) => caught);
  expect(BackendError.isInstance(error)).toBe(true);
  expect(listBackends()).toEqual([{ name: 'webgpu', priority: 5, status: 'failed', failureReason: 'not available in this environment' }]);
});
