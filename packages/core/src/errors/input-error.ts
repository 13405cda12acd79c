import { describeValue, Gemma3nError, type Gemma3nErrorCode } from './gemma3n-error';

const code: Gemma3nErrorCode = 'input';
const marker = Symbol.for(`gemma3n.error.${code}`);

export interface InputErrorParams {
  /** The option or input at fault, e.g. `sampling.topP` or `prompt`. */
  field: string;
  value: unknown;
  /** What would have been accepted, e.g. `a number in (0, 1]`. */
  expected: string;
  message?: string;
  cause?: unknown;
}

/** Bad input from the caller: a prompt longer than the context, an invalid sampling option… */
export class InputError extends Gemma3nError {
  private readonly [marker] = true;
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;

  constructor(params: InputErrorParams) {
    super({
      code,
      message:
        params.message ?? `${params.field} is ${describeValue(params.value)}; expected ${params.expected}`,
      cause: params.cause,
    });
    this.name = 'InputError';
    this.field = params.field;
    this.value = params.value;
    this.expected = params.expected;
  }

  static override isInstance(value: unknown): value is InputError {
    return Gemma3nError.hasMarker(value, code);
  }
}
