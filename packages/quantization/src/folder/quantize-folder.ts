import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError, ModelFileError } from '@gemma3n/core';
import { parseQuantizationDtype, QUANTIZATION_SUFFIXES, type QuantizationDtype } from '../quantization-dtypes';
import { convertModelFileToFloat16 } from '../passes/convert-float16';
import { findQuantizableTensors, quantizeModelFile, type QuantizedTensorReport, type QuantizeModelOptions, type QuantizeProgress, type SkippedNodeReport } from '../passes/quantize-model-file';

export interface QuantizeFolderOptions extends Omit<QuantizeModelOptions, 'dtype' | 'onProgress'> {
  /** 'q4' or 'q8'; anything else is an UnsupportedError. */
  dtype: string;
  /**
   * Sessions to quantize, by name (`decoder_model_merged`) or file (`onnx/embed_tokens.onnx`).
   * Default: every fp32 `onnx/*.onnx` (a file without a dtype suffix).
   */
  files?: readonly string[];
  /** Replace an existing output folder (default false: an existing one is an InputError). */
  overwrite?: boolean;
  onProgress?: (event: QuantizeFolderProgress) => void;
  /** Free bytes the output file system must have; measured with statfs when absent (tests inject it). */
  availableBytes?: number;
}

export type QuantizeFolderProgress =
  | ({ stage: 'quantize' } & QuantizeProgress)
  | { stage: 'copy'; file: string; done: number; total: number }
  | { stage: 'finish'; outputDir: string };

export interface QuantizeFolderResult {
  outputDir: string;
  dtype: QuantizationDtype;
  /**
   * Per quantized session: its input and output file names and byte sizes (graph + data), the
   * quantized tensors, and the nodes on quantizable weights left float with the reason.
   */
  sessions: {
    session: string;
    inputFile: string;
    outputFile: string;
    inputBytes: number;
    outputBytes: number;
    tensors: QuantizedTensorReport[];
    skipped: SkippedNodeReport[];
  }[];
  /** Files copied unchanged, relative to the folder. */
  copied: string[];
}

/** Every dtype suffix of the model-folder contract: a file with one is not an fp32 source. */
const DTYPE_SUFFIX = /_(fp16|quantized|int8|uint8|q4|q4f16|bnb4)\.onnx$/;

/**
 * Writes a quantized copy of a model folder to `outputDir`, never touching `inputDir`: the
 * chosen fp32 sessions become `onnx/<session><suffix>.onnx` (+ external data), every other file
 * is copied, and config.json's `transformers.js_config` gets the per-session `dtype` and
 * `use_external_data_format` of the new files. The folder is built under a temporary sibling
 * name and renamed into place only when complete.
 */
export async function quantizeModelFolder(inputDir: string, outputDir: string, options: QuantizeFolderOptions): Promise<QuantizeFolderResult> {
  const dtype = parseQuantizationDtype(options.dtype);
  const source = resolve(inputDir);
  const target = resolve(outputDir);
  const configPath = join(source, 'config.json');
  const config = await readConfig(configPath);
  if (target === source || !relative(source, target).startsWith('..')) {
    throw new InputError({ field: 'outputDir', value: outputDir, expected: `a folder outside the input folder ${inputDir} (the input is never modified in place)` });
  }
  const targetExists = await exists(target);
  if (targetExists && !options.overwrite) {
    throw new InputError({ field: 'outputDir', value: outputDir, expected: 'a path that does not exist yet (pass overwrite to replace it)' });
  }
  let sessions = await chooseSessions(source, options.files);
  if (options.files === undefined || options.files.length === 0) {
    // Chosen by default: a session with nothing to quantize (an encoder of convolutions only)
    // is copied as it is rather than failing the folder. Named sessions must quantize.
    const quantizable: string[] = [];
    for (const session of sessions) {
      if ((await findQuantizableTensors(join(source, 'onnx', `${session}.onnx`), { ...options, dtype })).length > 0) quantizable.push(session);
    }
    if (quantizable.length === 0) {
      throw new InputError({ field: 'inputDir', value: inputDir, expected: 'a model folder with at least one fp32 session that has MatMul or Gather weights to quantize' });
    }
    sessions = quantizable;
  }
  const allFiles = await listFiles(source);
  const sessionData = new Map<string, string[]>();
  for (const session of sessions) sessionData.set(session, allFiles.filter((file) => isModelOrData(file, `onnx/${session}.onnx`)));
  const quantizedInputs = new Set([...sessionData.values()].flat());
  const toCopy = allFiles.filter((file) => !quantizedInputs.has(file) && file !== 'config.json');

  // Space: the copied files, plus each quantized session at up to 30 % of its fp32 size (q8 is
  // 25 % for weights; copied small tensors and graphs add a little).
  let required = 0;
  for (const file of toCopy) required += (await stat(join(source, file))).size;
  for (const file of quantizedInputs) required += Math.ceil((await stat(join(source, file))).size * 0.3);
  await mkdir(dirname(target), { recursive: true });
  const available = options.availableBytes ?? (await freeBytes(dirname(target)));
  if (available < required) {
    throw new InputError({
      field: 'outputDir',
      value: outputDir,
      expected: `a file system with at least ${formatBytes(required)} free for the quantized folder (it has ${formatBytes(available)})`,
      message: `Not enough disk space for ${outputDir}: about ${formatBytes(required)} needed, ${formatBytes(available)} free`,
    });
  }

  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temporary = join(dirname(target), `.${basename(target)}.partial-${suffix}`);
  await mkdir(join(temporary, 'onnx'), { recursive: true });
  try {
    const results: QuantizeFolderResult['sessions'] = [];
    const suffixText = QUANTIZATION_SUFFIXES[dtype];
    for (const session of sessions) {
      const inputFile = `onnx/${session}.onnx`;
      const outputFile = `onnx/${session}${suffixText}.onnx`;
      const onProgress = (event: QuantizeProgress) => options.onProgress?.({ stage: 'quantize', ...event });
      let written: { files: string[]; tensors: QuantizedTensorReport[]; skipped: SkippedNodeReport[] };
      if (dtype === 'fp16') {
        written = await convertModelFileToFloat16(join(source, inputFile), join(temporary, 'onnx'), basename(outputFile), { ...options, onProgress });
      } else if (dtype === 'q4f16') {
        // q4 with scales already rounded to float16, then the fp16 pass over that file.
        const intermediate = join(temporary, '.q4-intermediate');
        await mkdir(intermediate, { recursive: true });
        const q4 = await quantizeModelFile(join(source, inputFile), intermediate, `${session}_q4.onnx`, { ...options, dtype: 'q4', float16Scales: true, onProgress });
        const converted = await convertModelFileToFloat16(join(intermediate, `${session}_q4.onnx`), join(temporary, 'onnx'), basename(outputFile), {
          maxExternalDataFileBytes: options.maxExternalDataFileBytes,
          externalDataThresholdBytes: options.externalDataThresholdBytes,
          chunkBytes: options.chunkBytes,
        });
        await rm(intermediate, { recursive: true, force: true });
        written = { files: converted.files, tensors: q4.tensors, skipped: q4.skipped };
      } else {
        written = await quantizeModelFile(join(source, inputFile), join(temporary, 'onnx'), basename(outputFile), { ...options, dtype, onProgress });
      }
      let inputBytes = 0;
      for (const file of sessionData.get(session) ?? []) inputBytes += (await stat(join(source, file))).size;
      let outputBytes = 0;
      for (const file of written.files) outputBytes += (await stat(join(temporary, 'onnx', file))).size;
      results.push({ session, inputFile, outputFile, inputBytes, outputBytes, tensors: written.tensors, skipped: written.skipped });
    }
    for (const [index, file] of toCopy.entries()) {
      await mkdir(dirname(join(temporary, file)), { recursive: true });
      await copyFile(join(source, file), join(temporary, file));
      options.onProgress?.({ stage: 'copy', file, done: index + 1, total: toCopy.length });
    }
    const finalFiles = await listFiles(temporary);
    await writeFile(join(temporary, 'config.json'), `${JSON.stringify(updatedConfig(config, finalFiles, dtype, sessions), null, 2)}\n`);
    if (targetExists) {
      const previous = join(dirname(target), `.${basename(target)}.previous-${suffix}`);
      await rename(target, previous);
      await rename(temporary, target);
      await rm(previous, { recursive: true, force: true });
    } else {
      await rename(temporary, target);
    }
    options.onProgress?.({ stage: 'finish', outputDir: target });
    return { outputDir: target, dtype, sessions: results, copied: toCopy };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/**
 * config.json with `transformers.js_config.dtype` naming each session's dtype (a single string
 * when all agree) and `use_external_data_format` counting the data files of every `.onnx` now
 * in the folder.
 */
export function updatedConfig(config: Record<string, unknown>, files: readonly string[], dtype: QuantizationDtype, quantizedSessions: readonly string[]): Record<string, unknown> {
  const output = structuredClone(config);
  const previous = config['transformers.js_config'];
  const jsConfig: Record<string, unknown> = previous !== null && typeof previous === 'object' && !Array.isArray(previous) ? { ...previous } : {};
  const sessionDtypes: Record<string, string> = {};
  const previousDtype = jsConfig.dtype;
  for (const file of files) {
    const match = /^onnx\/([^/]+?)(_fp16|_quantized|_int8|_uint8|_q4f16|_q4|_bnb4)?\.onnx$/.exec(file);
    if (!match) continue;
    const session = match[1]!;
    if (quantizedSessions.includes(session)) sessionDtypes[session] = dtype;
    else if (sessionDtypes[session] === undefined) {
      const earlier = typeof previousDtype === 'string' ? previousDtype : (previousDtype as Record<string, string> | undefined)?.[session];
      sessionDtypes[session] = earlier ?? 'fp32';
    }
  }
  const values = new Set(Object.values(sessionDtypes));
  jsConfig.dtype = values.size === 1 ? [...values][0] : sessionDtypes;
  const counts: Record<string, number> = {};
  for (const file of files) {
    const match = /^onnx\/([^/]+\.onnx)_data(?:_\d+)?$/.exec(file);
    if (match) counts[match[1]!] = (counts[match[1]!] ?? 0) + 1;
  }
  if (Object.keys(counts).length > 0) jsConfig.use_external_data_format = counts;
  else delete jsConfig.use_external_data_format;
  output['transformers.js_config'] = jsConfig;
  return output;
}

async function chooseSessions(source: string, requested: readonly string[] | undefined): Promise<string[]> {
  const onnxFiles = (await exists(join(source, 'onnx'))) ? await readdir(join(source, 'onnx')) : [];
  const fp32 = onnxFiles.filter((file) => file.endsWith('.onnx') && !DTYPE_SUFFIX.test(file)).map((file) => file.slice(0, -'.onnx'.length));
  if (requested === undefined || requested.length === 0) {
    if (fp32.length === 0) {
      throw new InputError({ field: 'inputDir', value: source, expected: 'a model folder with fp32 onnx/<session>.onnx files to quantize' });
    }
    return fp32.sort();
  }
  return requested.map((entry) => {
    const file = basename(entry);
    if (DTYPE_SUFFIX.test(file)) {
      throw new InputError({ field: 'files', value: entry, expected: 'an fp32 session (a file without a dtype suffix)', message: `${entry} is already a quantized or converted file; name its fp32 session instead` });
    }
    const session = file.endsWith('.onnx') ? file.slice(0, -'.onnx'.length) : file;
    if (!fp32.includes(session)) {
      throw new InputError({ field: 'files', value: entry, expected: `one of the fp32 sessions of ${source}: ${fp32.join(', ') || '(none)'}` });
    }
    return session;
  });
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ModelFileError({ path, problem: 'missing', cause, message: `${path} does not exist: the input must be a model folder with a config.json` });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelFileError({ path, problem: 'invalid-json', cause });
  }
}

function isModelOrData(file: string, model: string): boolean {
  return file === model || file === `${model}_data` || file.startsWith(`${model}_data_`);
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const result: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) result.push(...(await listFiles(root, path)));
    else if (entry.isFile()) result.push(path);
  }
  return result.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return Number(stats.bavail) * Number(stats.bsize);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
