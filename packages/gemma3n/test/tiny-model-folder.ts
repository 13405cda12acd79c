import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinyModel, TINY_TEXT_SHAPES } from '@gemma3n/convert';

type ShapeName = keyof typeof TINY_TEXT_SHAPES;

const convertSource = join(dirname(fileURLToPath(import.meta.url)), '../../convert/src');

/** A hash of the converter's sources, so a cached folder is rebuilt when the converter changes. */
async function converterVersion(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) hash.update(entry.name).update(await readFile(path));
    }
  };
  await walk(convertSource);
  return hash.digest('hex').slice(0, 12);
}

/**
 * A tiny converted model folder (`makeTinyModel`), cached in the OS temp folder across runs.
 * Never committed: tests build what they need.
 */
export async function tinyModelFolder(shape: ShapeName, seed: number): Promise<string> {
  const cacheRoot = join(tmpdir(), 'gemma3n-runtime-test-models');
  const name = `${shape}-seed-${seed}-`;
  const folder = join(cacheRoot, `${name}${await converterVersion()}`);
  const marker = join(folder, 'onnx', 'decoder_model_merged.onnx');
  const isReady = () => stat(marker).then(() => true, () => false);
  if (await isReady()) return folder;
  // Test files run in parallel processes: each builds into its own folder and renames it into
  // place; the first rename wins and the others use its folder. A cached folder is never
  // replaced while another process may be reading it.
  const staging = join(cacheRoot, `.staging-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await mkdir(cacheRoot, { recursive: true });
  await makeTinyModel(staging, { shape, seed });
  try {
    await rename(staging, folder);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!(await isReady())) throw error;
    return folder;
  }
  // Folders made by older converter versions are never used again.
  for (const entry of await readdir(cacheRoot)) {
    if (entry.startsWith(name) && join(cacheRoot, entry) !== folder) await rm(join(cacheRoot, entry), { recursive: true, force: true });
  }
  return folder;
}
