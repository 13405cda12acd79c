/**
 * Base class of every error this project throws on purpose. Each class carries a `code` and a
 * `Symbol.for('gemma3n.error.<code>')` marker, so `isInstance` still works when an app ends up
 * with two copies of `@gemma3n/core` (where `instanceof` would fail).
 */

export type Gemma3nErrorCode =
  | 'gemma3n'
  | 'model-file'
  | 'config'
  | 'tokenizer'
  | 'backend'
  | 'input'
  | 'unsupported';

const code: Gemma3nErrorCode = 'gemma3n';
const marker = Symbol.for(`gemma3n.error.${code}`);

export interface Gemma3nErrorParams {
  message: string;
  cause?: unknown;
}

export class Gemma3nError extends Error {
  // Every subclass also carries this marker, so `Gemma3nError.isInstance` accepts all of them.
  private readonly [marker] = true;
  readonly code: Gemma3nErrorCode;

  constructor(params: Gemma3nErrorParams & { code?: Gemma3nErrorCode }) {
    super(params.message, params.cause === undefined ? undefined : { cause: params.cause });
    this.name = 'Gemma3nError';
    this.code = params.code ?? code;
  }

  static isInstance(value: unknown): value is Gemma3nError {
    return Gemma3nError.hasMarker(value, code);
  }

  /** True when `value` carries the marker of the error class with this `code`. */
  protected static hasMarker(value: unknown, markerCode: Gemma3nErrorCode): boolean {
    const markerSymbol = Symbol.for(`gemma3n.error.${markerCode}`);
    return (
      value !== null &&
      typeof value === 'object' &&
      (value as Record<symbol, unknown>)[markerSymbol] === true
    );
  }
}

/**
 * Renders an offending value for an error message: short, unambiguous (strings quoted, arrays
 * abbreviated) and never throwing, whatever the value is.
 */
export function describeValue(value: unknown, maxLength = 80): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'number') text = Number.isNaN(value) ? 'NaN' : String(value);
  else if (typeof value === 'function') text = `function ${value.name || '(anonymous)'}`;
  else if (typeof value === 'symbol') text = value.toString();
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
