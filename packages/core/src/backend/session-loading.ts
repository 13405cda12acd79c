import { BackendError } from '../errors/backend-error';
import type { ExternalDataEntry, SessionOptions } from './backend';

/** The `externalData` session option for a model's external data files; none when there are none. */
export function externalDataSessionOption(entries: readonly ExternalDataEntry[] | undefined): Pick<SessionOptions, 'externalData'> {
  if (entries === undefined || entries.length === 0) return {};
  return { externalData: entries.map((entry) => ({ path: entry.path, data: entry.data })) };
}

export interface LoadSessionParams<Session> {
  /** The backend's registry name (`wasm`), for `BackendError.failures`. */
  backend: string;
  /** The engine as users know it (`onnxruntime-web (wasm)`), which starts the message. */
  runtime: string;
  /** The model being loaded: its file name, or `(bytes)`. */
  model: string;
  /** Creates the session, e.g. `() => ort.InferenceSession.create(bytes, options)`. */
  create: () => Promise<Session>;
}

/**
 * Runs `create`, turning onnxruntime's failure into a BackendError that names the engine and
 * the model (`onnxruntime-web (wasm) could not load "onnx/decoder_model_merged.onnx": [wasm] …`),
 * so a user reads which file failed where, not a bare error from deep inside onnxruntime.
 */
export async function loadSession<Session>(params: LoadSessionParams<Session>): Promise<Session> {
  try {
    return await params.create();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackendError({
      message: `${params.runtime} could not load "${params.model}"`,
      failures: [{ backend: params.backend, reason, cause: error }],
      cause: error,
    });
  }
}
