import { Command, InvalidArgumentError } from 'commander';
import { makeTinyModel, TINY_SHAPE_NAMES, type TinyShapeName } from '@gemma3n/convert';
import { parseGraphProfile, type GraphProfile } from '../graph-profile';
import { createProgressReporter } from '../progress-bar';
import { writeJson } from '../output';

function parseShape(value: string): TinyShapeName {
  if (!(TINY_SHAPE_NAMES as string[]).includes(value)) {
    throw new InvalidArgumentError(`unknown shape "${value}"; expected one of ${TINY_SHAPE_NAMES.join(', ')}`);
  }
  return value as TinyShapeName;
}

export function makeTinyCommand(): Command {
  return new Command('make-tiny')
    .description('write a small demo model folder with RANDOM weights, converted by the real converter')
    .argument('<out-dir>', 'model folder to write')
    .option('--shape <name>', `checkpoint shape (${TINY_SHAPE_NAMES.join(', ')})`, parseShape, 'tiny-real-vocab')
    .option('--seed <n>', 'seed for the random weights', (value) => Number.parseInt(value, 10), 0)
    .option('--graph <profile>', 'compat (plain ONNX ops, like the published export) or optimized (default: GroupQueryAttention, RotaryEmbedding, fused norms)', parseGraphProfile, 'optimized')
    .option('--overwrite', 'replace <out-dir> if it exists')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (outDir: string, flags: { shape: TinyShapeName; seed: number; overwrite?: boolean; json?: boolean; graph: GraphProfile }) => {
      process.stderr.write(
        `making a tiny "${flags.shape}" Gemma 3n model with RANDOM weights (seed ${flags.seed}): ` +
          'its output is gibberish by design; it exercises the real loading and generation code.\n',
      );
      const progress = createProgressReporter('make-tiny');
      try {
        const result = await makeTinyModel(outDir, {
          shape: flags.shape,
          seed: flags.seed,
          overwrite: flags.overwrite ?? false,
          graphOptions: { graph: flags.graph },
          onProgress: progress.update,
        });
        progress.stop();
        process.stderr.write(`wrote ${outDir}\n`);
        if (flags.json) writeJson({ outDir, shape: flags.shape, seed: flags.seed, ...result });
      } finally {
        progress.stop();
      }
    });
}
