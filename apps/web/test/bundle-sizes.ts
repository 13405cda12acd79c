import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface BundleFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

/** Every file of the built app with its size and gzip -9 size. */
export function bundleFiles(distFolder: string): BundleFile[] {
  const files: BundleFile[] = [];
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const bytes = readFileSync(path);
        files.push({ path: relative(distFolder, path), bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
      }
    }
  };
  walk(distFolder);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

export function formatBundleTable(files: BundleFile[]): string {
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
  const width = Math.max(...files.map((file) => file.path.length));
  const lines = files.map((file) => `${file.path.padEnd(width)}  ${kib(file.bytes).padStart(12)}  gzip ${kib(file.gzipBytes).padStart(11)}`);
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  return [...lines, `${'total'.padEnd(width)}  ${kib(total).padStart(12)}`].join('\n');
}
