/**
 * Node's fs and path, reached at run time through `process.getBuiltinModule` (Node ≥ 20.16)
 * rather than imported: a browser bundle of this package then contains no `node:` import to
 * fail on, and the functions simply report "no filesystem" there.
 */
export interface NodeFileAccess {
  readFile(path: string): Promise<Uint8Array>;
  isFile(path: string): Promise<boolean>;
  resolve(...paths: string[]): string;
  dirname(path: string): string;
  /** Path separator (`/`, or `\` on Windows). */
  separator: string;
}

export function nodeFileAccess(scope: typeof globalThis = globalThis): NodeFileAccess | undefined {
  const getBuiltinModule = (scope as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof getBuiltinModule !== 'function') return undefined;
  const fs = getBuiltinModule('node:fs/promises') as {
    readFile(path: string): Promise<Uint8Array>;
    stat(path: string): Promise<{ isFile(): boolean }>;
  };
  const path = getBuiltinModule('node:path') as { resolve(...paths: string[]): string; dirname(path: string): string; sep: string };
  return {
    readFile: async (file) => new Uint8Array(await fs.readFile(file)),
    isFile: (file) => fs.stat(file).then((info) => info.isFile(), () => false),
    resolve: (...paths) => path.resolve(...paths),
    dirname: (file) => path.dirname(file),
    separator: path.sep,
  };
}
