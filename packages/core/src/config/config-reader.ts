import { ConfigError } from '../errors/config-error';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads typed fields out of one JSON object of a config file. Every failure is a ConfigError
 * naming the full field path (`text_config.intermediate_size[3]`), so the parsers stay a flat
 * list of "field, default, constraint" lines.
 *
 * A field set to `null` counts as absent (Hugging Face writes `null` for "use the default"),
 * except where `nullable` readers give `null` a meaning of its own.
 */
export class ConfigReader {
  constructor(
    readonly object: JsonObject,
    /** Path of this object inside the file: `''` for the top level, `text_config`, … */
    readonly prefix: string,
    readonly source: string,
  ) {}

  path(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}.${key}`;
  }

  has(key: string): boolean {
    return this.object[key] !== undefined && this.object[key] !== null;
  }

  raw(key: string): unknown {
    return this.object[key];
  }

  fail(field: string, value: unknown, expected: string): never {
    throw new ConfigError({ source: this.source, field, value, expected });
  }

  /**
   * Fails on the field `key` of this object. When the key is absent the value checked was its
   * default, which the message says, so nobody hunts for a value their file does not contain.
   */
  failKey(key: string, value: unknown, expected: string): never {
    const note = this.has(key) ? '' : ` (the field is absent and defaults to ${JSON.stringify(value)}; set it explicitly)`;
    this.fail(this.path(key), value, `${expected}${note}`);
  }

  /** A child object, or `undefined` when the key is absent or null. */
  child(key: string): ConfigReader | undefined {
    if (!this.has(key)) return undefined;
    const value = this.object[key];
    if (!isJsonObject(value)) this.fail(this.path(key), value, 'an object');
    return new ConfigReader(value, this.path(key), this.source);
  }

  integer(key: string, fallback: number, minimum = 1): number {
    if (!this.has(key)) return fallback;
    return this.checkInteger(this.path(key), this.object[key], minimum);
  }

  checkInteger(field: string, value: unknown, minimum = 1): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
      this.fail(field, value, integerExpectation(minimum));
    }
    return value;
  }

  /** A finite number; `range` bounds are inclusive unless marked exclusive. */
  number(key: string, fallback: number, range: NumberRange = {}): number {
    if (!this.has(key)) return fallback;
    return this.checkNumber(this.path(key), this.object[key], range);
  }

  /** A number where `null` is meaningful (e.g. "no soft-capping"). */
  nullableNumber(key: string, fallback: number | null, range: NumberRange = {}): number | null {
    const value = this.object[key];
    if (value === undefined) return fallback;
    if (value === null) return null;
    return this.checkNumber(this.path(key), value, range);
  }

  checkNumber(field: string, value: unknown, range: NumberRange): number {
    const inRange =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (range.greaterThan === undefined || value > range.greaterThan) &&
      (range.atLeast === undefined || value >= range.atLeast) &&
      (range.lessThan === undefined || value < range.lessThan) &&
      (range.atMost === undefined || value <= range.atMost);
    if (!inRange) this.fail(field, value, numberExpectation(range));
    return value as number;
  }

  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.object[key];
    if (typeof value !== 'boolean') this.fail(this.path(key), value, 'true or false');
    return value;
  }

  string(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const value = this.object[key];
    if (typeof value !== 'string' || value === '') this.fail(this.path(key), value, 'a non-empty string');
    return value;
  }

  /** An array field; each element is checked by `readElement(elementPath, element)`. */
  list<T>(key: string, readElement: (field: string, value: unknown) => T): T[] {
    const value = this.object[key];
    if (!Array.isArray(value)) this.fail(this.path(key), value, 'a list');
    return value.map((element, index) => readElement(`${this.path(key)}[${index}]`, element));
  }
}

export interface NumberRange {
  greaterThan?: number;
  atLeast?: number;
  lessThan?: number;
  atMost?: number;
}

function integerExpectation(minimum: number): string {
  if (minimum === 1) return 'a positive integer';
  if (minimum === 0) return 'a non-negative integer';
  return `an integer ≥ ${minimum}`;
}

function numberExpectation(range: NumberRange): string {
  const bounds: string[] = [];
  if (range.greaterThan !== undefined) bounds.push(`> ${range.greaterThan}`);
  if (range.atLeast !== undefined) bounds.push(`≥ ${range.atLeast}`);
  if (range.lessThan !== undefined) bounds.push(`< ${range.lessThan}`);
  if (range.atMost !== undefined) bounds.push(`≤ ${range.atMost}`);
  return bounds.length === 0 ? 'a finite number' : `a finite number ${bounds.join(' and ')}`;
}
