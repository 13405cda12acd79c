import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExternalDataWriter } from './external-data-writer';
import { OnnxGraphBuilder } from './onnx-graph-builder';
import { onnx, type OnnxTypes } from './onnx-proto';

export const DEFAULT_OPSET = 21;
export const DEFAULT_IR_VERSION = 10;

export interface OnnxModelFileOptions {
  directory: string;
  /** `decoder_model_merged.onnx`; external data goes to `<fileName>_data`, `<fileName>_data_1`, … */
  fileName: string;
  graphName?: string;
  /** ai.onnx opset version (default 21). */
  opset?: number;
  /** Extra operator sets, e.g. `{ domain: 'com.microsoft', version: 1 }`. */
  extraOpsets?: { domain: string; version: number }[];
  irVersion?: number;
  /** Initializers of at least this many bytes are stored externally (default 1 KiB). */
  externalDataThresholdBytes?: number;
  /** Size limit of one external data file (default 2 GiB). */
  maxExternalDataFileBytes?: number;
  producerName?: string;
  docString?: string;
}

/**
 * One `.onnx` file being written: a graph builder whose large initializers stream to external
 * data files while the graph grows. `finish` writes the model and renames every file into place
 * (data files first, the `.onnx` last, so a present model file is always complete); on failure
 * call `abort`, which deletes the temporary files.
 */
export class OnnxModelFile {
  readonly graph: OnnxGraphBuilder;
  private readonly options: OnnxModelFileOptions;
  private readonly externalData: ExternalDataWriter;
  private finished = false;

  private constructor(options: OnnxModelFileOptions) {
    this.options = options;
    this.externalData = new ExternalDataWriter({
      directory: options.directory,
      modelFileName: options.fileName,
      maxFileBytes: options.maxExternalDataFileBytes,
    });
    this.graph = new OnnxGraphBuilder({
      graphName: options.graphName ?? options.fileName.replace(/\.onnx$/, ''),
      externalData: this.externalData,
      externalDataThresholdBytes: options.externalDataThresholdBytes,
    });
  }

  static async create(options: OnnxModelFileOptions): Promise<OnnxModelFile> {
    await mkdir(options.directory, { recursive: true });
    return new OnnxModelFile(options);
  }

  /** The ModelProto of the graph as built so far. */
  toModelProto(): OnnxTypes.IModelProto {
    const opsetImport = [{ domain: '', version: this.options.opset ?? DEFAULT_OPSET }, ...(this.options.extraOpsets ?? [])];
    return {
      irVersion: this.options.irVersion ?? DEFAULT_IR_VERSION,
      opsetImport,
      producerName: this.options.producerName ?? 'gemma3n-js',
      docString: this.options.docString ?? '',
      graph: this.graph.toGraphProto(),
    };
  }

  /** Writes the model; returns the written file names relative to the directory (model first). */
  async finish(): Promise<string[]> {
    if (this.finished) throw new Error(`${this.options.fileName} was already finished`);
    this.finished = true;
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(this.toModelProto())).finish();
    const finalPath = join(this.options.directory, this.options.fileName);
    const temporaryPath = `${finalPath}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(temporaryPath, bytes);
      const dataFiles = await this.externalData.commit();
      await rename(temporaryPath, finalPath);
      return [this.options.fileName, ...dataFiles];
    } catch (error) {
      await rm(temporaryPath, { force: true });
      await this.externalData.abort();
      throw error;
    }
  }

  /** Deletes every temporary file written so far. */
  async abort(): Promise<void> {
    this.finished = true;
    await this.externalData.abort();
  }
}

/** Creates a model file, runs `build` on its graph and finishes it; aborts if `build` throws. */
export async function writeOnnxModel(
  options: OnnxModelFileOptions,
  build: (graph: OnnxGraphBuilder) => Promise<void> | void,
): Promise<string[]> {
  const file = await OnnxModelFile.create(options);
  try {
    await build(file.graph);
  } catch (error) {
    await file.abort();
    throw error;
  }
  return file.finish();
}
