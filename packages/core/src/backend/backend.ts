import type { InferenceSession } from 'onnxruntime-common';

/**
 * One external data file of an ONNX model, in the shape of onnxruntime-web's `externalData`
 * session option: `path` is the file name the model's initializers reference (relative to
 * the model, e.g. `decoder_model_merged_q4.onnx_data`); `data` is either its bytes or a URL
 * (or, in Node, a file path) that onnxruntime fetches itself.
 */
export interface ExternalDataEntry {
  path: string;
  data: Uint8Array | string;
}

/**
 * A model given as a file path. onnxruntime-node opens it itself and finds external data
 * files next to it, so nothing is read into JS memory (the PLE table alone is ~2 GB).
 * Only backends running where the path exists (Node) accept this form.
 */
export interface ModelPathSource {
  type: 'path';
  /** Absolute or working-directory-relative path of the `.onnx` file. */
  path: string;
}

/**
 * A model given as bytes, with its external data listed explicitly, because a browser has no
 * folder to look next to. Every backend accepts this form.
 */
export interface ModelBytesSource {
  type: 'bytes';
  bytes: Uint8Array;
  externalData?: readonly ExternalDataEntry[];
  /** The file the bytes came from (`onnx/embed_tokens_quantized.onnx`), for error messages. */
  name?: string;
}

/** What `Backend.createSession` loads. */
export type ModelSource = ModelPathSource | ModelBytesSource;

/** Session options as onnxruntime-common defines them (execution providers, threads, …). */
export type SessionOptions = InferenceSession.SessionOptions;

/**
 * An engine that can run ONNX sessions: onnxruntime-node, onnxruntime-web (wasm / WebGPU), or a
 * test double. Core never imports one; backend packages implement this and register themselves
 * (or are passed in explicitly).
 */
export interface Backend {
  /** A short identifier for messages and `listBackends()`, e.g. `node-cpu`, `web-webgpu`. */
  readonly name: string;
  /**
   * Cheap check whether this backend can work here at all (e.g. `navigator.gpu` exists).
   * A false answer is a failure reason the registry reports; it is not retried.
   */
  isAvailable(): boolean | Promise<boolean>;
  /** One-time set-up (load wasm, request an adapter). The registry calls it at most once. */
  init?(): Promise<void>;
  /**
   * Creates a session. Throws UnsupportedError for a `ModelSource` form it cannot take (a
   * browser backend given a path), ModelFileError for unreadable model data.
   */
  createSession(model: ModelSource, options?: SessionOptions): Promise<InferenceSession>;
}
