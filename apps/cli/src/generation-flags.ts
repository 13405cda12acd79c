import { InvalidArgumentError, type Command } from 'commander';
import { parseInteger, parseNumber } from './option-parsers';

/** Flags shared by `run` and `chat`, as commander hands them to us. */
export interface GenerationFlags {
  model: string;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  seed?: number;
  greedy?: boolean;
  threads?: number;
  dtype?: string;
  stop?: string[];
  json?: boolean;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the model and sampling flags to a command. Range checks happen in the library. */
export function addGenerationFlags(command: Command): Command {
  return command
    .requiredOption('-m, --model <dir>', 'model folder (onnx-community layout)')
    .option('--max-new-tokens <n>', 'stop after this many new tokens (default 256)', parseInteger('--max-new-tokens'), 256)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', parseNumber('--temperature'))
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', parseInteger('--top-k'))
    .option('--top-p <p>', 'nucleus sampling mass, in (0, 1]', parseNumber('--top-p'))
    .option('--min-p <p>', 'drop tokens below p × the best probability', parseNumber('--min-p'))
    .option('--repetition-penalty <r>', 'penalise tokens already seen (> 1)', parseNumber('--repetition-penalty'))
    .option('--seed <n>', 'seed that makes sampling reproducible', parseInteger('--seed'))
    .option('--greedy', 'always pick the most likely token')
    .option('--threads <n>', 'onnxruntime intra-op threads', parseInteger('--threads'))
    .option('--dtype <dtype>', 'model file dtype: fp32, fp16, q8, q4, q4f16 (file suffix)')
    .option('--stop <text>', 'stop when the output contains this text (repeatable)', collect)
    .option('--json', 'print a JSON result on stdout instead of streaming text');
}

export function parsePromptIds(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  const ids = parts.map(Number);
  const bad = parts.findIndex((part, index) => !/^\d+$/.test(part) || !Number.isSafeInteger(ids[index]));
  if (parts.length === 0 || bad >= 0) {
    throw new InvalidArgumentError(
      `--prompt-ids expects comma-separated token ids such as 2,105,2364; "${parts[bad] ?? value}" is not one`,
    );
  }
  return ids;
}
