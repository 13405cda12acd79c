import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The package runs in browsers: its shipped sources must not reach for Node built-ins. */
describe('browser safety', () => {
  it('keeps node: imports, require, process and Buffer out of src/ (tests excepted)', () => {
    const sourceFolder = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
    const offenders: string[] = [];
    const visit = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          const text = readFileSync(path, 'utf8');
          for (const pattern of [/from '(node:|fs|path|os|url)['/]/, /\brequire\(/, /\bprocess\./, /\bBuffer\b/]) {
            if (pattern.test(text)) offenders.push(`${relative(sourceFolder, path)}: ${pattern}`);
          }
        }
      }
    };
    visit(sourceFolder);
    expect(offenders).toEqual([]);
  });
});
