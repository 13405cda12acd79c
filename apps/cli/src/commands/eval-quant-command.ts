import { Command } from 'commander';
import { runEvalQuantCommand } from '@gemma3n/quantization/node';
import { writeJson } from '../output';

export function evalQuantCommand(): Command {
  return new Command('eval-quant')
    .description('top-1 agreement and mean KL of next-token distributions of a quantized folder against fp32')
    .argument('<dir>', 'the fp32 model folder')
    .requiredOption('--dtype <dtype>', 'q4, q8, fp16, q4f16')
    .option('--quantized <dir>', 'the quantized folder (default: quantize <dir> into a temporary folder)')
    .option('--prompts <n>', 'seeded prompts to score', (value) => Number.parseInt(value, 10), 8)
    .option('--length <n>', 'tokens per prompt', (value) => Number.parseInt(value, 10), 16)
    .option('--seed <n>', 'seed of the prompts', (value) => Number.parseInt(value, 10), 7)
    .option('--json', 'print the figures as JSON on stdout')
    .action(async (dir: string, flags: { dtype: string; quantized?: string; prompts: number; length: number; seed: number; json?: boolean }) => {
      const ort = await import('onnxruntime-node');
      const result = await runEvalQuantCommand(
        { dir, dtype: flags.dtype, quantizedDir: flags.quantized, prompts: flags.prompts, length: flags.length, seed: flags.seed },
        { ort: ort as never, output: { log: (line) => process.stderr.write(`${line}\n`) } },
      );
      if (flags.json) writeJson(result);
      else {
        process.stdout.write(
          `${flags.dtype}: top-1 agreement ${(100 * result.topOneAgreement).toFixed(1)} % over ${result.positions} positions, ` +
            `mean KL ${result.meanKl.toPrecision(3)} nats (max ${result.maxKl.toPrecision(3)})\n`,
        );
      }
    });
}
