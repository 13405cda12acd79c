import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * Vitest global setup: builds the app into dist/ once before the tests, so `pnpm test` checks
 * the code as it is now, whether or not `pnpm build` ran since the last change.
 */
export default async function buildApp(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  await build({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn' });
}
