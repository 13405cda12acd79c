import { InputError } from '../errors/input-error';
import { ModelFileError } from '../errors/model-file-error';
import type { ByteRange } from './model-files';

/**
 * Checks a path inside a model folder and returns its `/`-separated segments. Absolute paths,
 * backslashes and `..` are refused so a path read from a (possibly hostile) config cannot
 * reach outside the folder.
 */
export function modelPathSegments(path: string): string[] {
  const expected = 'a relative path inside the model folder, with "/" separators and no ".." (e.g. "onnx/model.onnx")';
  if (typeof path !== 'string' || path === '' || path.startsWith('/') || path.includes('\\') || /^[a-zA-Z]:/.test(path)) {
    throw new InputError({ field: 'path', value: path, expected });
  }
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0 || segments.includes('..')) {
    throw new InputError({ field: 'path', value: path, expected });
  }
  return segments;
}

/** Validates a ByteRange: non-negative safe integers. */
export function checkByteRange(range: ByteRange): void {
  for (const key of ['offset', 'length'] as const) {
    const value = range[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new InputError({ field: `range.${key}`, value, expected: 'a non-negative integer' });
    }
  }
}

/** The error for a ranged read that ended before `range.length` bytes. */
export function shortReadError(params: {
  path: string;
  location: string;
  range: ByteRange;
  actualBytes: number;
  fileSize?: number;
}): ModelFileError {
  const { path, location, range, actualBytes, fileSize } = params;
  const sizeText = fileSize === undefined ? '' : ` (the file is ${fileSize} bytes)`;
  return new ModelFileError({
    path,
    location,
    problem: 'short',
    expectedBytes: range.length,
    actualBytes,
    message:
      `Model file "${path}" in ${location} is shorter than expected: reading ${range.length} bytes at offset ` +
      `${range.offset} returned ${actualBytes}${sizeText}; the file is probably an incomplete download`,
  });
}

/** JSON.parse, with a parse failure reported as ModelFileError naming the file. */
export function parseJsonFile<T>(text: string, path: string, location: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ModelFileError({ path, location, problem: 'invalid-json', cause: error });
  }
}

const utf8 = new TextDecoder('utf-8');

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
