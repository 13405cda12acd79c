import { describeValue, Gemma3nError, type Gemma3nErrorCode } from './gemma3n-error';

const code: Gemma3nErrorCode = 'config';
const marker = Symbol.for(`gemma3n.error.${code}`);

export interface ConfigErrorParams {
  /** Dotted path of the offending field, e.g. `text_config.intermediate_size[3]`. */
  field: string;
  value: unknown;
  /** What would have been accepted, e.g. `a positive integer`. */
  expected: string;
  /** The file the configuration came from. */
  source?: string;
  message?: string;
  cause?: unknown;
}

/** A configuration field is missing, of the wrong type, out of range, or inconsistent. */
export class ConfigError extends Gemma3nError {
  private readonly [marker] = true;
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
  readonly source: string | undefined;

  constructor(params: ConfigErrorParams) {
    const prefix = params.source === undefined ? '' : `${params.source}: `;
    super({
      code,
      message:
        params.message ??
        `${prefix}${params.field} is ${describeValue(params.value)}; expected ${params.expected}`,
      cause: params.cause,
    });
    this.name = 'ConfigError';
    this.field = params.field;
    this.value = params.value;
    this.expected = params.expected;
    this.source = params.source;
  }

  static override isInstance(value: unknown): value is ConfigError {
    return Gemma3nError.hasMarker(value, code);
  }
}
