import { Command } from 'commander';
import { benchCommand } from './commands/bench-command';
import { chatCommand } from './commands/chat-command';
import { convertCommand } from './commands/convert-command';
import { evalQuantCommand } from './commands/eval-quant-command';
import { makeTinyCommand } from './commands/make-tiny-command';
import { offloadPleCommand } from './commands/offload-ple-command';
import { quantizeCommand } from './commands/quantize-command';
import { runCommand } from './commands/run-command';
import { describeError } from './output';

const program = new Command('gemma3n')
  .description('Gemma 3n on-device: generate, chat, convert and quantize checkpoints, make test models')
  .showHelpAfterError()
  .addCommand(runCommand())
  .addCommand(chatCommand())
  .addCommand(convertCommand())
  .addCommand(makeTinyCommand())
  .addCommand(quantizeCommand())
  .addCommand(offloadPleCommand())
  .addCommand(evalQuantCommand())
  .addCommand(benchCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`gemma3n: ${describeError(error)}\n`);
  process.exitCode = 1;
});
