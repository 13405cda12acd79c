import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(packageRoot, 'dist', 'node.js'));

/**
 * Runs the README's usage example against the built package (`turbo test` builds first) and
 * checks that it prints exactly the output written in its `// …` comments.
 */
describe('README example', () => {
  it.skipIf(!built)('prints what the README says it prints', () => {
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
    const example = /## Usage\s+```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // The expected output is the comment right under each console.log line.
    const lines = (example as string).split('\n');
    const expected = lines
      .map((line, index) => (index > 0 && lines[index - 1]?.includes('console.log(') && line.startsWith('// ') ? line.slice(3) : undefined))
      .filter((line): line is string => line !== undefined);
    expect(expected.length).toBe(3);
    // Inside the package folder, so that '@gemma3n/vision/node' resolves to this package's dist.
    const scratch = mkdtempSync(join(packageRoot, '.readme-example-'));
    try {
      const script = join(scratch, 'example.mjs');
      writeFileSync(script, example as string);
      const output = execFileSync(process.execPath, [script], { cwd: scratch, encoding: 'utf8' });
      expect(output.trim().split('\n')).toEqual(expected);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
