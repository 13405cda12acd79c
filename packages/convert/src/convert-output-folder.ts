import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '@gemma3n/core';

/**
 * Builds a folder under a temporary name next to `outputDir` and renames it into place only
 * when `build` succeeded, so a failed run leaves neither a half-written output nor the
 * temporary folder. The temporary folder is a sibling (same file system), so the final
 * rename is atomic.
 *
 * An existing `outputDir` is an InputError unless `overwrite` is set; then it is replaced
 * only after the new folder is complete.
 */
export async function writeFolderAtomically<T>(
  outputDir: string,
  options: { overwrite?: boolean },
  build: (temporaryDir: string) => Promise<T>,
): Promise<T> {
  const target = resolve(outputDir);
  const exists = await pathExists(target);
  if (exists && !options.overwrite) {
    throw new InputError({
      field: 'outputDir',
      value: outputDir,
      expected: 'a path that does not exist yet (pass overwrite: true to replace it)',
    });
  }
  // The first folder this call had to create, if any, so a failure can remove it again.
  const createdParent = await mkdir(dirname(target), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temporaryDir = join(dirname(target), `.${basename(target)}.partial-${suffix}`);
  await mkdir(temporaryDir);
  let result: T;
  try {
    result = await build(temporaryDir);
    if (exists) {
      const previous = join(dirname(target), `.${basename(target)}.previous-${suffix}`);
      await rename(target, previous);
      await rename(temporaryDir, target);
      await rm(previous, { recursive: true, force: true });
    } else {
      await rename(temporaryDir, target);
    }
  } catch (error) {
    await rm(temporaryDir, { recursive: true, force: true });
    if (createdParent !== undefined) await rm(createdParent, { recursive: true, force: true });
    throw error;
  }
  return result;
}

/** Writes a JSON file the way Hugging Face does (2-space indent, trailing newline). */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
