import { mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared';

export default mergeConfig(packageTestConfig(), {
  test: {
    // The browser tests load dist/; build it first.
    globalSetup: ['test/build-app.ts'],
    // Each browser test loads a model several times in a software-emulated GPU: slow is fine.
    testTimeout: 300_000,
  },
});
