import { mkdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { externalDataFileName, InputError, parseGemma3nConfig, UnsupportedError } from '@gemma3n/core';
import {
  countExternalData,
  defaultGenerationConfig,
  e2bShapeConfig,
  loadRealGemma3nTokenizerFiles,
  offloadPerLayerEmbeddings,
  outputConfig,
  SyntheticTensorSource,
  tinyShapeConfig,
  writeTextGraphs,
  type CheckpointTokenizerFiles,
} from '@gemma3n/convert';
import { buildSyntheticTokenizerFiles } from '@gemma3n/convert';
import { quantizingWeightEncoding } from '@gemma3n/quantization';

/** `e2b`: the real E2B text model's shapes (D 2048, 30 layers, 262,400 ids, 2 GB PLE table). */
export const SYNTHETIC_SIZES = ['e2b', 'tiny'] as const;
export type SyntheticSize = (typeof SYNTHETIC_SIZES)[number];
export type GraphProfile = 'compat' | 'optimized';

/** File names and dtypes of the published onnx-community q4 folders. */
export const BENCH_DTYPE = { embed_tokens: 'q8', decoder_model_merged: 'q4' } as const;
const FILE_NAMES = { embedTokens: 'embed_tokens_quantized.onnx', decoder: 'decoder_model_merged_q4.onnx' };

/**
 * Bump when what a folder holds changes, so cached folders of an older layout are rebuilt.
 * The manifest also records size, profile and seed.
 */
const FOLDER_FORMAT = 1;
const MANIFEST = 'bench-folder.json';
const SEED = 1;

/**
 * MatMulNBits accuracy_level per profile. compat: 0, what the published q4 files carry (float
 * activations). optimized: 4 (int8 activations), chosen by measurement — on this 2-core machine
 * the E2B decoder's decode step ran 1.5× faster with it (see the CLI README, `gemma3n bench`).
 */
const ACCURACY_LEVEL: Record<GraphProfile, 0 | 4> = { compat: 0, optimized: 4 };

/**
 * MatMulNBits block size per profile. compat: 32, as the published files. optimized: 128, chosen
 * by measurement on the E2B decoder (acc 4, 2 cores): decode 17.1 vs 13.3 tok/s and peak RSS
 * 1886 vs 2645 MiB against block 32. At accuracy_level 4 onnxruntime's CPU kernel keeps the
 * float32 scales and adds two more per-block arrays when it prepacks, so at block 32 the scales
 * cost ~890 MiB of memory for E2B; at 128 a quarter of that.
 */
const BLOCK_SIZE: Record<GraphProfile, number> = { compat: 32, optimized: 128 };

export interface BenchFolder {
  dir: string;
  profile: GraphProfile;
  /** Whether it was written now (false: found in the cache). */
  built: boolean;
  /** The decoder's weight bytes (graph + external data): what one decode step reads. */
  decoderWeightBytes: number;
  config: ReturnType<typeof parseGemma3nConfig>;
}

export interface BuildProgress {
  profile: GraphProfile;
  stage: string;
  done: number;
  total: number;
}

/** config.json of the synthetic model: E2B's text model and embedders (no towers). */
export function syntheticRawConfig(size: SyntheticSize): Record<string, unknown> {
  if (size === 'tiny') return tinyShapeConfig('tiny-window-4');
  return e2bShapeConfig();
}

/**
 * The benchmark's model folders, one per graph profile, in `cacheDir/<size>-<profile>`: random
 * weights (SyntheticTensorSource) written straight into q8 embed_tokens + q4 (block 32)
 * decoder files by the converter's quantize-on-write hook — never a float32 intermediate —
 * in the onnx-community layout transformers.js loads. The optimized folder also holds the
 * per-layer table as a row file (PLE offload). Built once; a folder whose manifest matches is
 * reused. Each folder is written under a temporary name and renamed when complete.
 */
export async function ensureBenchFolders(
  size: SyntheticSize,
  cacheDir: string,
  options: { rebuild?: boolean; onProgress?: (event: BuildProgress) => void; log?: (line: string) => void } = {},
): Promise<Record<GraphProfile, BenchFolder>> {
  if (!(SYNTHETIC_SIZES as readonly string[]).includes(size)) {
    throw new UnsupportedError({ feature: 'synthetic model size', value: size, supported: SYNTHETIC_SIZES });
  }
  await mkdir(cacheDir, { recursive: true });
  const folders = {} as Record<GraphProfile, BenchFolder>;
  for (const profile of ['compat', 'optimized'] as const) {
    const dir = join(cacheDir, `${size}-${profile}`);
    const expected = { format: FOLDER_FORMAT, size, profile, seed: SEED, accuracyLevel: ACCURACY_LEVEL[profile], blockSize: BLOCK_SIZE[profile] };
    const cached = options.rebuild ? null : await readManifest(dir);
    let built = false;
    if (cached === null || JSON.stringify(cached) !== JSON.stringify(expected)) {
      await checkFreeSpace(cacheDir, size, profile);
      options.log?.(`writing the ${profile} ${size} folder to ${dir} (random weights, quantized as written)`);
      await writeBenchFolder(dir, size, profile, expected, options.onProgress);
      built = true;
    }
    const config = parseGemma3nConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
    folders[profile] = { dir, profile, built, decoderWeightBytes: await decoderBytes(dir), config };
  }
  return folders;
}

/**
 * Bytes one folder takes on disk (measured on the written folders): the compat folder 4.1 GB
 * (q8 tables 2.56 GB + q4 decoder 1.55 GB), the optimized one 6.7 GB (also the per-layer row
 * file and the text-only embed graph). Tiny folders are a few MB.
 */
const FOLDER_BYTES: Record<SyntheticSize, Record<GraphProfile, number>> = {
  e2b: { compat: 4.2e9, optimized: 6.8e9 },
  tiny: { compat: 5e6, optimized: 5e6 },
};

/** Refuses to start a folder that cannot fit, instead of failing with ENOSPC minutes later. */
async function checkFreeSpace(cacheDir: string, size: SyntheticSize, profile: GraphProfile): Promise<void> {
  const info = await statfs(cacheDir);
  const free = info.bavail * info.bsize;
  const needed = FOLDER_BYTES[size][profile];
  if (free < needed) {
    throw new InputError({
      field: 'cacheDir',
      value: cacheDir,
      expected: `a folder with at least ${(needed / 1e9).toFixed(1)} GB free for the ${size} ${profile} folder`,
      message: `Not enough disk space in ${cacheDir} for the ${size} ${profile} benchmark folder: about ${(needed / 1e9).toFixed(1)} GB needed, ${(free / 1e9).toFixed(1)} GB free (choose another --cache-dir)`,
    });
  }
}

async function writeBenchFolder(
  dir: string,
  size: SyntheticSize,
  profile: GraphProfile,
  manifest: Record<string, unknown>,
  onProgress: ((event: BuildProgress) => void) | undefined,
): Promise<void> {
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'onnx'), { recursive: true });
  try {
    const rawConfig = syntheticRawConfig(size);
    const config = parseGemma3nConfig(rawConfig);
    const source = new SyntheticTensorSource(rawConfig, SEED);
    const { files } = await writeTextGraphs(config, source, join(staging, 'onnx'), {
      graph: profile,
      // Not split by output columns (maximumOutputsPerNode): measured, it lowered the session's
      // creation transient by 200 MiB but the process peak rose in prefill (2061–2098 vs 1895 MiB).
      weightEncoding: quantizingWeightEncoding({ blockSize: BLOCK_SIZE[profile], accuracyLevel: ACCURACY_LEVEL[profile] }),
      fileNames: FILE_NAMES,
      onProgress: (event) => onProgress?.({ profile, ...event }),
    });
    const folderConfig = outputConfig(rawConfig, config, countExternalData(files));
    (folderConfig['transformers.js_config'] as Record<string, unknown>).dtype = { ...BENCH_DTYPE };
    await writeFile(join(staging, 'config.json'), JSON.stringify(folderConfig, null, 2));
    await writeFile(join(staging, 'generation_config.json'), JSON.stringify(defaultGenerationConfig(config), null, 2));
    await writeTokenizerFiles(staging, size === 'e2b' ? await loadRealGemma3nTokenizerFiles() : buildSyntheticTokenizerFiles(rawConfig));
    if (profile === 'optimized') {
      await offloadPerLayerEmbeddings(staging, {
        embedFiles: [`onnx/${FILE_NAMES.embedTokens}`],
        onProgress: (event) => onProgress?.({ profile, stage: 'per-layer table rows', done: event.done, total: event.total }),
      });
    }
    await writeFile(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function writeTokenizerFiles(dir: string, files: CheckpointTokenizerFiles): Promise<void> {
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig, null, 2));
  if (files.chatTemplate !== undefined) await writeFile(join(dir, 'chat_template.jinja'), files.chatTemplate);
}

async function readManifest(dir: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
}

/** Bytes of the decoder graph and its external data files. */
async function decoderBytes(dir: string): Promise<number> {
  let total = 0;
  for (let index = 0; ; index++) {
    const name = externalDataFileName(FILE_NAMES.decoder, index);
    const size = await stat(join(dir, 'onnx', name)).then((info) => info.size, () => null);
    if (size === null) break;
    total += size;
  }
  return total + (await stat(join(dir, 'onnx', FILE_NAMES.decoder))).size;
}
