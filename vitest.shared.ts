import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Tests run on the workspace's TypeScript sources, not on built `dist/` folders, so a package's
 * tests never depend on another package having been built first. `@gemma3n/name` resolves to
 * `packages/name/src/index.ts` and `@gemma3n/name/sub` to `packages/name/src/sub.ts`.
 */
export const workspaceAliases = [
  { find: /^@gemma3n\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
  { find: /^@gemma3n\/([a-z0-9-]+)\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
];

export function packageTestConfig() {
  return defineConfig({
    resolve: { alias: workspaceAliases },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 300_000,
      pool: 'forks',
    },
  });
}
