import { Command } from 'commander';
import { runQuantizeCommand, type QuantizeCommandOptions } from '@gemma3n/quantization/node';
import { parsePositiveInteger } from '../option-parsers';
import { writeJson } from '../output';

export function quantizeCommand(): Command {
  return new Command('quantize')
    .description('write a quantized copy of a model folder (the input folder is never modified)')
    .argument('<dir>', 'model folder (fp32 ONNX files)')
    .requiredOption('--dtype <dtype>', 'q4 (MatMulNBits), q8 (int8), fp16, q4f16')
    .option('-o, --output <dir>', 'output folder (default: <dir>-<dtype>)')
    .option('--files <names>', 'comma-separated sessions to quantize, e.g. decoder_model_merged', (value) => value.split(','))
    .option('--block-size <n>', 'q4 block size: 32, 64 or 128 (32 also works on WebGPU)', parsePositiveInteger('--block-size'))
    .option('--symmetric', 'q4 without zero points')
    .option('--accuracy-level <n>', 'MatMulNBits accuracy_level (4 = int8 activations, fastest on CPU)', parsePositiveInteger('--accuracy-level'))
    .option('--overwrite', 'replace the output folder if it exists')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (dir: string, flags: Omit<QuantizeCommandOptions, 'dir'> & { json?: boolean }) => {
      const { json, ...options } = flags;
      // Progress lines go to stderr: stdout stays for --json.
      const result = await runQuantizeCommand({ dir, ...options }, { log: (line) => process.stderr.write(`${line}\n`) });
      if (json) writeJson(result);
    });
}
