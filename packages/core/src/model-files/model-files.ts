/** A byte range of a file: `length` bytes starting at `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Reported while a file body streams in. `totalBytes` is undefined when the size is unknown. */
export interface ModelFileProgressEvent {
  path: string;
  loadedBytes: number;
  totalBytes: number | undefined;
}

/**
 * Read access to one model folder (config.json, tokenizer files, onnx/…), wherever it lives:
 * a local directory, an HTTP server, the Hugging Face Hub, a browser cache. Paths are relative to
 * the folder with `/` separators (`onnx/decoder_model_merged_q4.onnx`).
 *
 * Reads fail with ModelFileError: `missing` when the file does not exist, `short` when a ranged
 * read ends before `length` bytes, `truncated` when a body is shorter than the size announced
 * for it, `invalid-json` for JSON that does not parse.
 */
export interface ModelFiles {
  /** The folder or base URL, for messages. */
  readonly location: string;
  exists(path: string): Promise<boolean>;
  /** Size in bytes. */
  size(path: string): Promise<number>;
  /** The whole file, or exactly `range.length` bytes from `range.offset`. */
  readBytes(path: string, range?: ByteRange): Promise<Uint8Array>;
  readJson<T = unknown>(path: string): Promise<T>;
  /** The file decoded as UTF-8. */
  readText(path: string): Promise<string>;
  /**
   * A filesystem path for the file, for backends that open files themselves (onnxruntime-node
   * then also finds external data next to it). Absent or undefined where there is no filesystem.
   */
  localPath?(path: string): string | undefined;
}
