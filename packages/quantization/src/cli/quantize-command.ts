import { basename, dirname, join, resolve } from 'node:path';
import { quantizeModelFolder, type QuantizeFolderResult } from '../folder/quantize-folder';

/** Parsed options of `gemma3n quantize DIR --dtype q4 [--files …] [--block-size 32] …`. */
export interface QuantizeCommandOptions {
  dir: string;
  dtype: string;
  /** Default: `<DIR>-<dtype>` beside the input folder. */
  output?: string;
  files?: string[];
  blockSize?: number;
  symmetric?: boolean;
  accuracyLevel?: number;
  overwrite?: boolean;
}

export interface CommandOutput {
  log(line: string): void;
}

/** Default output folder: a sibling of the input named `<input>-<dtype>`. */
export function defaultQuantizedDir(dir: string, dtype: string): string {
  const input = resolve(dir);
  return join(dirname(input), `${basename(input)}-${dtype}`);
}

/**
 * Runs `gemma3n quantize`: writes the quantized folder, logging one line per quantized tensor,
 * one per node left float on a quantizable weight (with the reason) and a size summary per
 * session.
 */
export async function runQuantizeCommand(options: QuantizeCommandOptions, output: CommandOutput): Promise<QuantizeFolderResult> {
  const outputDir = options.output ?? defaultQuantizedDir(options.dir, options.dtype);
  const started = performance.now();
  const result = await quantizeModelFolder(options.dir, outputDir, {
    dtype: options.dtype,
    files: options.files,
    blockSize: options.blockSize,
    symmetric: options.symmetric,
    accuracyLevel: options.accuracyLevel,
    overwrite: options.overwrite,
    onProgress: (event) => {
      if (event.stage === 'quantize') output.log(`[${event.done}/${event.total}] ${event.file}: ${event.tensor}`);
      else if (event.stage === 'copy') output.log(`copy ${event.file}`);
    },
  });
  for (const session of result.sessions) {
    for (const entry of session.skipped) output.log(`${session.outputFile}: ${entry.opType} ${entry.node} on ${entry.tensor} ${entry.reason}`);
    output.log(
      `${session.outputFile}: ${session.tensors.length} tensors quantized, ${megabytes(session.inputBytes)} → ${megabytes(session.outputBytes)} (${((100 * session.outputBytes) / session.inputBytes).toFixed(1)} %)`,
    );
  }
  output.log(`wrote ${result.outputDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
