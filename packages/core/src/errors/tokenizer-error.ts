import { Gemma3nError, type Gemma3nErrorCode } from './gemma3n-error';

const code: Gemma3nErrorCode = 'tokenizer';
const marker = Symbol.for(`gemma3n.error.${code}`);

export interface TokenizerErrorParams {
  message: string;
  /** The tokenizer file involved, when there is one (`tokenizer.json`). */
  source?: string;
  /** The offending token, id, piece or field value. */
  value?: unknown;
  cause?: unknown;
}

/** The tokenizer files are malformed, or a token or id cannot be encoded or decoded. */
export class TokenizerError extends Gemma3nError {
  private readonly [marker] = true;
  readonly source: string | undefined;
  readonly value: unknown;

  constructor(params: TokenizerErrorParams) {
    const prefix = params.source === undefined ? '' : `${params.source}: `;
    super({ code, message: `${prefix}${params.message}`, cause: params.cause });
    this.name = 'TokenizerError';
    this.source = params.source;
    this.value = params.value;
  }

  static override isInstance(value: unknown): value is TokenizerError {
    return Gemma3nError.hasMarker(value, code);
  }
}
