import { Command, InvalidArgumentError } from 'commander';
import { runQuantizeCommand } from '@gemma3n/quantization/node';
import { writeJson } from '../output';

function parsePositiveInteger(flag: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number <= 0) {
      throw new InvalidArgumentError(`${flag} expects a positive integer, got "${value}"`);
    }
    return number;
  };
}

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
    .action(
      async (
        dir: string,
        flags: {
          dtype: string;
          output?: string;
          files?: string[];
          blockSize?: number;
          symmetric?: boolean;
          accuracyLevel?: number;
          overwrite?: boolean;
          json?: boolean;
        },
      ) => {
        // Progress lines go to stderr: stdout stays for --json.
        const result = await runQuantizeCommand(
          {
            dir,
            dtype: flags.dtype,
            output: flags.output,
            files: flags.files,
            blockSize: flags.blockSize,
            symmetric: flags.symmetric,
            accuracyLevel: flags.accuracyLevel,
            overwrite: flags.overwrite,
          },
          { log: (line) => process.stderr.write(`${line}\n`) },
        );
        if (flags.json) writeJson(result);
      },
    );
}
