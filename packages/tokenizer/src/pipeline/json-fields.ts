import { TokenizerError } from '@gemma3n/core';

/**
 * Small readers for `tokenizer.json` fields. Each takes the dotted key path of the field so a
 * malformed file is reported as, for example, `tokenizer.json: model.merges[12] is 7; expected a
 * "left right" string or a [left, right] pair`, which is what a user needs to find the problem.
 */

export const tokenizerJsonSource = 'tokenizer.json';

export function describeJson(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function fieldError(path: string, value: unknown, expected: string): TokenizerError {
  return new TokenizerError({
    source: tokenizerJsonSource,
    message: `${path} is ${describeJson(value)}; expected ${expected}`,
    value,
  });
}

export function unsupportedType(path: string, type: unknown, supported: readonly string[]): TokenizerError {
  return new TokenizerError({
    source: tokenizerJsonSource,
    message: `${path}.type ${describeJson(type)} is not supported; supported: ${supported.join(', ')}`,
    value: type,
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function readRecord(value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw fieldError(path, value, 'an object');
  return value;
}

export function readString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw fieldError(`${path}.${key}`, value, 'a string');
  return value;
}

export function readOptionalString(record: Record<string, unknown>, key: string, path: string): string | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw fieldError(`${path}.${key}`, value, 'a string or null');
  return value;
}

export function readOptionalBoolean(
  record: Record<string, unknown>,
  key: string,
  path: string,
  fallback: boolean,
): boolean {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw fieldError(`${path}.${key}`, value, 'true or false');
  return value;
}

export function readNonNegativeInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw fieldError(path, value, 'a non-negative integer');
  }
  return value;
}

export function readArray(record: Record<string, unknown>, key: string, path: string): unknown[] {
  const value = record[key];
  if (!Array.isArray(value)) throw fieldError(`${path}.${key}`, value, 'an array');
  return value;
}

/** The `type` of a component object, checked against the list this package implements. */
export function readComponentType(value: unknown, path: string, supported: readonly string[]): string {
  const record = readRecord(value, path);
  const type = record['type'];
  if (typeof type !== 'string') throw fieldError(`${path}.type`, type, `one of ${supported.join(', ')}`);
  if (!supported.includes(type)) throw unsupportedType(path, type, supported);
  return type;
}
