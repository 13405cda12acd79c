import { Command } from 'commander';
import { convertCheckpoint } from '@gemma3n/convert';
import { parseGraphProfile, type GraphProfile } from '../graph-profile';
import { createProgressReporter } from '../progress-bar';
import { writeJson } from '../output';

export function convertCommand(): Command {
  return new Command('convert')
    .description('convert a Hugging Face Gemma 3n checkpoint folder into an ONNX model folder')
    .argument('<checkpoint-dir>', 'folder with config.json and *.safetensors')
    .argument('<out-dir>', 'model folder to write (written to a temp folder, then renamed)')
    .option('--graph <profile>', 'compat (plain ONNX ops, like the published export) or optimized (default: GroupQueryAttention, RotaryEmbedding, fused norms)', parseGraphProfile, 'optimized')
    .option('--overwrite', 'replace <out-dir> if it exists')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (checkpointDir: string, outDir: string, flags: { overwrite?: boolean; json?: boolean; graph: GraphProfile }) => {
      const progress = createProgressReporter('convert');
      const started = performance.now();
      try {
        const result = await convertCheckpoint(checkpointDir, outDir, {
          overwrite: flags.overwrite ?? false,
          graphOptions: { graph: flags.graph },
          onProgress: progress.update,
        });
        progress.stop();
        const seconds = (performance.now() - started) / 1000;
        process.stderr.write(`wrote ${outDir} in ${seconds.toFixed(1)} s\n`);
        if (flags.json) writeJson({ outDir, seconds, ...result });
      } finally {
        progress.stop();
      }
    });
}
