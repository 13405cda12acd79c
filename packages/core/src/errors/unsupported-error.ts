import { describeValue, Gemma3nError, type Gemma3nErrorCode } from './gemma3n-error';

const code: Gemma3nErrorCode = 'unsupported';
const marker = Symbol.for(`gemma3n.error.${code}`);

export interface UnsupportedErrorParams {
  /** What kind of thing is unsupported, e.g. `dtype`, `audio encoding`, `ONNX op`. */
  feature: string;
  value: unknown;
  /** The values that are supported, when the list is known. */
  supported?: readonly string[];
  message?: string;
  cause?: unknown;
}

/** A well-formed request this project does not (yet) handle: an unknown dtype, encoding, op. */
export class UnsupportedError extends Gemma3nError {
  private readonly [marker] = true;
  readonly feature: string;
  readonly value: unknown;
  readonly supported: readonly string[] | undefined;

  constructor(params: UnsupportedErrorParams) {
    const supportedText =
      params.supported === undefined ? '' : `; supported: ${params.supported.join(', ')}`;
    super({
      code,
      message:
        params.message ?? `Unsupported ${params.feature} ${describeValue(params.value)}${supportedText}`,
      cause: params.cause,
    });
    this.name = 'UnsupportedError';
    this.feature = params.feature;
    this.value = params.value;
    this.supported = params.supported === undefined ? undefined : [...params.supported];
  }

  static override isInstance(value: unknown): value is UnsupportedError {
    return Gemma3nError.hasMarker(value, code);
  }
}
