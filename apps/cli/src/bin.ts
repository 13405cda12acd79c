import { Command } from 'commander';
import { chatCommand } from './commands/chat-command';
import { convertCommand } from './commands/convert-command';
import { makeTinyCommand } from './commands/make-tiny-command';
import { runCommand } from './commands/run-command';
import { describeError } from './output';

const program = new Command('gemma3n')
  .description('Gemma 3n on-device: generate, chat, convert checkpoints, make test models')
  .showHelpAfterError()
  .addCommand(runCommand())
  .addCommand(chatCommand())
  .addCommand(convertCommand())
  .addCommand(makeTinyCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`gemma3n: ${describeError(error)}\n`);
  process.exitCode = 1;
});
