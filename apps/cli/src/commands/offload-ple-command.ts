import { Command, InvalidArgumentError } from 'commander';
import { PER_LAYER_TABLE_ENCODINGS, runOffloadPleCommand, type PerLayerTableEncoding } from '@gemma3n/convert';
import { writeJson } from '../output';

function parseEncoding(value: string): PerLayerTableEncoding {
  if ((PER_LAYER_TABLE_ENCODINGS as readonly string[]).includes(value)) return value as PerLayerTableEncoding;
  throw new InvalidArgumentError(`--encoding expects one of ${PER_LAYER_TABLE_ENCODINGS.join(', ')}, got "${value}"`);
}

export function offloadPleCommand(): Command {
  return new Command('offload-ple')
    .description('write the per-layer embedding table of embed_tokens*.onnx as a row file read per token (the originals stay)')
    .argument('<dir>', 'model folder (ours or onnx-community)')
    .option('--files <names>', 'comma-separated embed graphs, e.g. onnx/embed_tokens_quantized.onnx (default: every embed_tokens*.onnx)', (value) => value.split(','))
    .option('--encoding <encoding>', 'for fp32/fp16 tables only: fp32, fp16, q8 or q4 (quantized tables are copied as they are)', parseEncoding)
    .option('--json', 'print a JSON summary on stdout')
    .action(async (dir: string, flags: { files?: string[]; encoding?: PerLayerTableEncoding; json?: boolean }) => {
      // Progress lines go to stderr: stdout stays for --json.
      const results = await runOffloadPleCommand({ dir, files: flags.files, encoding: flags.encoding }, { log: (line) => process.stderr.write(`${line}\n`) });
      if (flags.json) writeJson(results);
    });
}
