import { Gemma3nError, type Gemma3nErrorCode } from './gemma3n-error';

const code: Gemma3nErrorCode = 'model-file';
const marker = Symbol.for(`gemma3n.error.${code}`);

/**
 * What was wrong with the file: absent, shorter than a read or a header needs, cut off in
 * the middle of its declared content, unparsable, or unreadable for another reason.
 */
export type ModelFileProblem = 'missing' | 'short' | 'truncated' | 'invalid-json' | 'unreadable';

export interface ModelFileErrorParams {
  /** The file, relative to the model folder (`onnx/embed_tokens_quantized.onnx_data`). */
  path: string;
  problem: ModelFileProblem;
  /** The model folder or base URL the path is relative to. */
  location?: string;
  expectedBytes?: number;
  actualBytes?: number;
  /** Overrides the message built from the other fields. */
  message?: string;
  cause?: unknown;
}

/** A model file is missing, shorter than expected, truncated, or not what its name promises. */
export class ModelFileError extends Gemma3nError {
  private readonly [marker] = true;
  readonly path: string;
  readonly problem: ModelFileProblem;
  readonly location: string | undefined;
  readonly expectedBytes: number | undefined;
  readonly actualBytes: number | undefined;

  constructor(params: ModelFileErrorParams) {
    super({ code, message: params.message ?? buildMessage(params), cause: params.cause });
    this.name = 'ModelFileError';
    this.path = params.path;
    this.problem = params.problem;
    this.location = params.location;
    this.expectedBytes = params.expectedBytes;
    this.actualBytes = params.actualBytes;
  }

  static override isInstance(value: unknown): value is ModelFileError {
    return Gemma3nError.hasMarker(value, code);
  }
}

function buildMessage(params: ModelFileErrorParams): string {
  const where = params.location === undefined ? `"${params.path}"` : `"${params.path}" in ${params.location}`;
  const sizes =
    params.expectedBytes !== undefined || params.actualBytes !== undefined
      ? ` (expected ${params.expectedBytes ?? '?'} bytes, got ${params.actualBytes ?? '?'})`
      : '';
  switch (params.problem) {
    case 'missing':
      return `Model file ${where} does not exist`;
    case 'short':
      return `Model file ${where} is shorter than expected${sizes}; the download is probably incomplete`;
    case 'truncated':
      return `Model file ${where} is truncated${sizes}; download it again`;
    case 'invalid-json':
      return `Model file ${where} is not valid JSON${causeText(params.cause)}`;
    case 'unreadable':
      return `Model file ${where} could not be read${causeText(params.cause)}`;
  }
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return `: ${cause.message}`;
  return cause === undefined ? '' : `: ${String(cause)}`;
}
