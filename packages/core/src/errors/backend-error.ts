import { Gemma3nError, type Gemma3nErrorCode } from './gemma3n-error';

const code: Gemma3nErrorCode = 'backend';
const marker = Symbol.for(`gemma3n.error.${code}`);

/** Why one backend could not be used. */
export interface BackendFailure {
  backend: string;
  reason: string;
  cause?: unknown;
}

export interface BackendErrorParams {
  /** One entry per backend that was tried (or requested) and failed. */
  failures: readonly BackendFailure[];
  /** Overrides the default summary line; the per-backend reasons are appended either way. */
  message?: string;
  cause?: unknown;
}

/** No backend could be initialised, or a backend failed to create or run a session. */
export class BackendError extends Gemma3nError {
  private readonly [marker] = true;
  readonly failures: readonly BackendFailure[];

  constructor(params: BackendErrorParams) {
    const summary = params.message ?? 'No usable backend';
    const reasons = params.failures.map((failure) => `[${failure.backend}] ${failure.reason}`);
    super({
      code,
      message: reasons.length === 0 ? summary : `${summary}: ${reasons.join('; ')}`,
      cause: params.cause,
    });
    this.name = 'BackendError';
    this.failures = [...params.failures];
  }

  static override isInstance(value: unknown): value is BackendError {
    return Gemma3nError.hasMarker(value, code);
  }
}
